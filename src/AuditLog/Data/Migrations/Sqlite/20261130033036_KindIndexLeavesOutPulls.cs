using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.AuditLog.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class KindIndexLeavesOutPulls : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_audit_entries_Kind_Id",
                table: "audit_entries");

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_Kind_Id",
                table: "audit_entries",
                columns: new[] { "Kind", "Id" },
                filter: "\"Kind\" <> 'pull_repo'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_audit_entries_Kind_Id",
                table: "audit_entries");

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_Kind_Id",
                table: "audit_entries",
                columns: new[] { "Kind", "Id" });
        }
    }
}
