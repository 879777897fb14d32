using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Collector.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CollectionRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Namespace = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    Repository = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    DryRun = table.Column<bool>(type: "boolean", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Phase = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    RequestedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Resumes = table.Column<int>(type: "integer", nullable: false),
                    TagsExpired = table.Column<int>(type: "integer", nullable: false),
                    TagHistoryPruned = table.Column<int>(type: "integer", nullable: false),
                    ManifestsRemoved = table.Column<int>(type: "integer", nullable: false),
                    BlobLinksRemoved = table.Column<int>(type: "integer", nullable: false),
                    BlobsRemoved = table.Column<int>(type: "integer", nullable: false),
                    BytesFreed = table.Column<long>(type: "bigint", nullable: false),
                    UploadsRemoved = table.Column<int>(type: "integer", nullable: false),
                    OrphanFilesRemoved = table.Column<int>(type: "integer", nullable: false),
                    Error = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CollectionRuns", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "outbox_messages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Type = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Payload = table.Column<string>(type: "text", nullable: false),
                    OccurredAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SentAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox_messages", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_CollectionRuns_StartedAt",
                table: "CollectionRuns",
                column: "StartedAt");

            migrationBuilder.CreateIndex(
                name: "IX_CollectionRuns_Status",
                table: "CollectionRuns",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_messages_SentAt_OccurredAt",
                table: "outbox_messages",
                columns: new[] { "SentAt", "OccurredAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CollectionRuns");

            migrationBuilder.DropTable(
                name: "outbox_messages");
        }
    }
}
