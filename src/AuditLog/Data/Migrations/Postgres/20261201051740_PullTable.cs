using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Berth.AuditLog.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PullTable : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_names",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_names", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "audit_pulls",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false),
                    EntryId = table.Column<Guid>(type: "uuid", nullable: false),
                    OccurredTicks = table.Column<long>(type: "bigint", nullable: false),
                    NamespaceId = table.Column<int>(type: "integer", nullable: false),
                    RepositoryId = table.Column<int>(type: "integer", nullable: false),
                    PerformerId = table.Column<int>(type: "integer", nullable: false),
                    PerformerKindId = table.Column<int>(type: "integer", nullable: false),
                    AddressId = table.Column<int>(type: "integer", nullable: true),
                    UserAgentId = table.Column<int>(type: "integer", nullable: true),
                    DigestId = table.Column<int>(type: "integer", nullable: false),
                    MediaTypeId = table.Column<int>(type: "integer", nullable: false),
                    TagId = table.Column<int>(type: "integer", nullable: true),
                    RequestId = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_pulls", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_names_Name",
                table: "audit_names",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_audit_pulls_EntryId",
                table: "audit_pulls",
                column: "EntryId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_audit_pulls_NamespaceId_Id",
                table: "audit_pulls",
                columns: new[] { "NamespaceId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_pulls_OccurredTicks",
                table: "audit_pulls",
                column: "OccurredTicks");

            migrationBuilder.CreateIndex(
                name: "IX_audit_pulls_PerformerId_Id",
                table: "audit_pulls",
                columns: new[] { "PerformerId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_pulls_RepositoryId_Id",
                table: "audit_pulls",
                columns: new[] { "RepositoryId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_names");

            migrationBuilder.DropTable(
                name: "audit_pulls");
        }
    }
}
