using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Collector.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RetentionPolicies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "TagsPruned",
                table: "CollectionRuns",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "RetentionPolicies",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Namespace = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Repository = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    TagPattern = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    KeepNewest = table.Column<int>(type: "INTEGER", nullable: true),
                    MaxAgeSeconds = table.Column<long>(type: "INTEGER", nullable: true),
                    NotPulledForSeconds = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RetentionPolicies", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_RetentionPolicies_Namespace",
                table: "RetentionPolicies",
                column: "Namespace");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RetentionPolicies");

            migrationBuilder.DropColumn(
                name: "TagsPruned",
                table: "CollectionRuns");
        }
    }
}
