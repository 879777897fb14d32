using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Registry.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PullTimes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "LastPulledAt",
                table: "Tags",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LastPulledAt",
                table: "Manifests",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LastPulledAt",
                table: "Tags");

            migrationBuilder.DropColumn(
                name: "LastPulledAt",
                table: "Manifests");
        }
    }
}
