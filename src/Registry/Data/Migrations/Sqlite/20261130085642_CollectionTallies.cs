using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Registry.Data.Migrations.Sqlite
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
                    RunId = table.Column<Guid>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    TagsExpired = table.Column<int>(type: "INTEGER", nullable: false),
                    TagHistoryPruned = table.Column<int>(type: "INTEGER", nullable: false),
                    ManifestsRemoved = table.Column<int>(type: "INTEGER", nullable: false),
                    BlobLinksRemoved = table.Column<int>(type: "INTEGER", nullable: false),
                    BlobsRemoved = table.Column<int>(type: "INTEGER", nullable: false),
                    BytesFreed = table.Column<long>(type: "INTEGER", nullable: false),
                    UploadsRemoved = table.Column<int>(type: "INTEGER", nullable: false),
                    OrphanFilesRemoved = table.Column<int>(type: "INTEGER", nullable: false)
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
