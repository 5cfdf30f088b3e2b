using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Parley.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "bots",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    team_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    bot_name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    meeting_url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    normalized_meeting_url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    meeting_platform = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    recording_mode = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    joined_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    exited_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    error_code = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    error_message = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    deduplication_key = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    create_body = table.Column<string>(type: "TEXT", nullable: false),
                    extra = table.Column<string>(type: "TEXT", nullable: true),
                    event_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    deployment_platform = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    deployment_identifier = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    last_heartbeat_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    bot_token_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    leave_requested = table.Column<bool>(type: "INTEGER", nullable: false),
                    recording_paused = table.Column<bool>(type: "INTEGER", nullable: false),
                    pending_chat_messages = table.Column<string>(type: "TEXT", nullable: true),
                    artifacts_deleted = table.Column<bool>(type: "INTEGER", nullable: false),
                    participants = table.Column<string>(type: "TEXT", nullable: true),
                    speakers = table.Column<string>(type: "TEXT", nullable: true),
                    version = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bots", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "outbox",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    published_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    available_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_outbox", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "queue_messages",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    queue = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    body = table.Column<string>(type: "TEXT", nullable: false),
                    enqueued_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    visible_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    receive_count = table.Column<int>(type: "INTEGER", nullable: false),
                    receipt_handle = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    dead_lettered_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_queue_messages", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "scheduled_bots",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    team_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    bot_name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    meeting_url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    meeting_platform = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    join_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    create_body = table.Column<string>(type: "TEXT", nullable: false),
                    extra = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    dispatched_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    error_message = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_scheduled_bots", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "teams",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    deleted_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_teams", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    team_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    bot_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    @event = table.Column<string>(name: "event", type: "TEXT", maxLength: 32, nullable: false),
                    target_kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    target_url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    endpoint_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: true),
                    secret = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    method = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    payload = table.Column<string>(type: "TEXT", nullable: false),
                    attempt = table.Column<int>(type: "INTEGER", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    last_status_code = table.Column<int>(type: "INTEGER", nullable: true),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    next_attempt_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    delivered_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_deliveries", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_endpoints",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    team_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    secret = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    events = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_webhook_endpoints", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "bot_artifacts",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    bot_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    storage_key = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    content_type = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    size_bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bot_artifacts", x => x.id);
                    table.ForeignKey(
                        name: "FK_bot_artifacts_bots_bot_id",
                        column: x => x.bot_id,
                        principalTable: "bots",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "bot_status_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    bot_id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    code = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    error_message = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_bot_status_history", x => x.id);
                    table.ForeignKey(
                        name: "FK_bot_status_history_bots_bot_id",
                        column: x => x.bot_id,
                        principalTable: "bots",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    team_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    prefix = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    last_used_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    revoked_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.id);
                    table.ForeignKey(
                        name: "FK_api_keys_teams_team_id",
                        column: x => x.team_id,
                        principalTable: "teams",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_api_keys_team",
                table: "api_keys",
                column: "team_id");

            migrationBuilder.CreateIndex(
                name: "ux_api_keys_hash",
                table: "api_keys",
                column: "hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_bot_artifacts_bot_kind",
                table: "bot_artifacts",
                columns: new[] { "bot_id", "kind" });

            migrationBuilder.CreateIndex(
                name: "ix_bot_status_history_bot",
                table: "bot_status_history",
                columns: new[] { "bot_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_exited_at",
                table: "bots",
                columns: new[] { "exited_at", "artifacts_deleted" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_status_created_at",
                table: "bots",
                columns: new[] { "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_bot_name",
                table: "bots",
                columns: new[] { "team_id", "bot_name" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_created_at",
                table: "bots",
                columns: new[] { "team_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_dedup_key",
                table: "bots",
                columns: new[] { "team_id", "deduplication_key" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_id_id",
                table: "bots",
                columns: new[] { "team_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_meeting",
                table: "bots",
                columns: new[] { "team_id", "normalized_meeting_url", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_platform",
                table: "bots",
                columns: new[] { "team_id", "meeting_platform", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_bots_team_status",
                table: "bots",
                columns: new[] { "team_id", "status", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_outbox_pending",
                table: "outbox",
                columns: new[] { "published_at", "available_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_queue_messages_visible",
                table: "queue_messages",
                columns: new[] { "queue", "dead_lettered_at", "visible_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_scheduled_bots_due",
                table: "scheduled_bots",
                columns: new[] { "status", "join_at" });

            migrationBuilder.CreateIndex(
                name: "ix_scheduled_bots_team_id",
                table: "scheduled_bots",
                columns: new[] { "team_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_scheduled_bots_team_status",
                table: "scheduled_bots",
                columns: new[] { "team_id", "status", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_teams_deleted_at",
                table: "teams",
                column: "deleted_at");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_bot",
                table: "webhook_deliveries",
                columns: new[] { "bot_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_due",
                table: "webhook_deliveries",
                columns: new[] { "status", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_endpoints_team",
                table: "webhook_endpoints",
                columns: new[] { "team_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "bot_artifacts");

            migrationBuilder.DropTable(
                name: "bot_status_history");

            migrationBuilder.DropTable(
                name: "outbox");

            migrationBuilder.DropTable(
                name: "queue_messages");

            migrationBuilder.DropTable(
                name: "scheduled_bots");

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "webhook_endpoints");

            migrationBuilder.DropTable(
                name: "teams");

            migrationBuilder.DropTable(
                name: "bots");
        }
    }
}
