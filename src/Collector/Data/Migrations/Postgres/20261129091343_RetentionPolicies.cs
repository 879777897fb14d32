using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Berth.Collector.Data.Migrations.Postgres
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
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "RetentionPolicies",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Namespace = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Repository = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    TagPattern = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    KeepNewest = table.Column<int>(type: "integer", nullable: true),
                    MaxAgeSeconds = table.Column<long>(type: "bigint", nullable: true),
                    NotPulledForSeconds = table.Column<long>(type: "bigint", nullable: true),
                    CreatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
