using Npgsql;
using Parley.Data;

namespace Parley.Testing;

/// <summary>A fresh, empty database on the PostgreSQL server test.sh started.</summary>
internal static class PostgresDatabase
{
    public static async Task<string> CreateAsync()
    {
        var adminUrl = TestEnvironment.PostgresUrl;
        var admin = DatabaseUrl.Resolve(adminUrl, "/", 30);
        var name = "parley_test_" + Guid.NewGuid().ToString("N")[..12];
        // Each test gets its own database, so tests run in parallel and never see each other's rows.
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var uri = new UriBuilder(adminUrl) { Path = "/" + name };
        return uri.Uri.ToString();
    }
}
