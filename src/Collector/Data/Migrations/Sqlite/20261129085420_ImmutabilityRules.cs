using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Collector.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ImmutabilityRules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ImmutabilityRules",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Namespace = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Repository = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    TagPattern = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImmutabilityRules", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ImmutabilityRules_Namespace",
                table: "ImmutabilityRules",
                column: "Namespace");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ImmutabilityRules");
        }
    }
}
