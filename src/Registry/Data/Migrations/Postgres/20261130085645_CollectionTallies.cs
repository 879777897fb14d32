using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Registry.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CollectionTallies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CollectionTallies",
                columns: table => new
                {
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    TagsExpired = table.Column<int>(type: "integer", nullable: false),
                    TagHistoryPruned = table.Column<int>(type: "integer", nullable: false),
                    ManifestsRemoved = table.Column<int>(type: "integer", nullable: false),
                    BlobLinksRemoved = table.Column<int>(type: "integer", nullable: false),
                    BlobsRemoved = table.Column<int>(type: "integer", nullable: false),
                    BytesFreed = table.Column<long>(type: "bigint", nullable: false),
                    UploadsRemoved = table.Column<int>(type: "integer", nullable: false),
                    OrphanFilesRemoved = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CollectionTallies", x => x.RunId);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CollectionTallies");
        }
    }
}
