using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.AuditLog.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_entries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    EntryId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Namespace = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Repository = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    Performer = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    PerformerKind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    UserAgent = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    RequestId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    OccurredAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Metadata = table.Column<string>(type: "TEXT", nullable: false),
                    SourceEvent = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_entries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "inbox_messages",
                columns: table => new
                {
                    EventId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Consumer = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ProcessedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbox_messages", x => new { x.EventId, x.Consumer });
                });

            migrationBuilder.CreateTable(
                name: "sink_checkpoints",
                columns: table => new
                {
                    Sink = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    LastShippedId = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sink_checkpoints", x => x.Sink);
                });

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_EntryId",
                table: "audit_entries",
                column: "EntryId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_Kind_Id",
                table: "audit_entries",
                columns: new[] { "Kind", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_Namespace_Id",
                table: "audit_entries",
                columns: new[] { "Namespace", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_OccurredAt",
                table: "audit_entries",
                column: "OccurredAt");

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_Performer_Id",
                table: "audit_entries",
                columns: new[] { "Performer", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_audit_entries_Repository_Id",
                table: "audit_entries",
                columns: new[] { "Repository", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_entries");

            migrationBuilder.DropTable(
                name: "inbox_messages");

            migrationBuilder.DropTable(
                name: "sink_checkpoints");
        }
    }
}
