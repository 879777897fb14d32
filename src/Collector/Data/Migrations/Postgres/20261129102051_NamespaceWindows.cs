using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Collector.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class NamespaceWindows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "NamespaceWindows",
                columns: table => new
                {
                    Namespace = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    WindowSeconds = table.Column<long>(type: "bigint", nullable: false),
                    SetBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    SetAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_NamespaceWindows", x => x.Namespace);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "NamespaceWindows");
        }
    }
}
