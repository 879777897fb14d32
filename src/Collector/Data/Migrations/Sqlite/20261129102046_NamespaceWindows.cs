using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Collector.Data.Migrations.Sqlite
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
                    Namespace = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    WindowSeconds = table.Column<long>(type: "INTEGER", nullable: false),
                    SetBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    SetAt = table.Column<DateTime>(type: "TEXT", nullable: false)
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
