using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Registry.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class TagExpiryIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Tags_Expiring",
                table: "Tags",
                column: "ExpiresAt",
                filter: "\"EndedAt\" IS NULL AND \"ExpiresAt\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Tags_Expiring",
                table: "Tags");
        }
    }
}
