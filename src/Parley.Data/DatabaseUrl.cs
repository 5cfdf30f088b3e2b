using Npgsql;

namespace Parley.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>A resolved database: provider, connection string, and a description safe to log (no password).</summary>
public sealed record DatabaseTarget(DatabaseProvider Provider, string ConnectionString, string Description)
{
    /// <summary>Embedded mode: SQLite in the data directory, migrated automatically.</summary>
    public bool IsEmbedded => Provider == DatabaseProvider.Sqlite;
}

/// <summary>
/// Turns DATABASE_URL into a connection string. Accepts the forms the seeds use (`postgres://` and
/// `postgresql://`, credentials percent-encoded, `?sslmode=`), libpq-style query parameters that Npgsql
/// also understands (for example `host=/var/run/postgresql`), and `sqlite:PATH` for an explicit SQLite file.
/// </summary>
public static class DatabaseUrl
{
    public static DatabaseTarget Resolve(string? url, string dataDirectory, int timeoutSeconds)
    {
        if (!TryParse(url, dataDirectory, timeoutSeconds, out var target, out var error))
        {
            throw new ArgumentException(error, nameof(url));
        }

        return target;
    }

    public static bool TryParse(string? url, string dataDirectory, int timeoutSeconds, out DatabaseTarget target, out string error)
    {
        target = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(url))
        {
            var path = Path.GetFullPath(Path.Combine(dataDirectory, "parley.db"));
            target = Sqlite(path, timeoutSeconds);
            return true;
        }

        url = url.Trim();
        if (url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = url["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            if (path.Length == 0)
            {
                error = "expected sqlite:PATH with a file path";
                return false;
            }

            target = Sqlite(Path.GetFullPath(path), timeoutSeconds);
            return true;
        }

        const string Expected = "expected postgres://user:password@host:port/database[?sslmode=...] or sqlite:PATH";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || !(uri.Scheme.Equals("postgres", StringComparison.OrdinalIgnoreCase) || uri.Scheme.Equals("postgresql", StringComparison.OrdinalIgnoreCase)))
        {
            error = Expected;
            return false;
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            error = $"the URL names no database; {Expected}";
            return false;
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Database = database,
            Timeout = Math.Min(timeoutSeconds, 1024),
            CommandTimeout = timeoutSeconds,
        };
        if (!string.IsNullOrEmpty(uri.Host))
        {
            builder.Host = uri.Host.Trim('[', ']');
        }

        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            if (!TrySetParameter(builder, key, value))
            {
                error = $"unknown or invalid query parameter '{key}={value}'; expected PostgreSQL connection parameters such as sslmode=disable|prefer|require|verify-ca|verify-full";
                return false;
            }
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            error = $"the URL names no host; {Expected}";
            return false;
        }

        target = new DatabaseTarget(DatabaseProvider.Postgres, builder.ConnectionString, $"PostgreSQL {builder.Host}:{builder.Port}/{database}");
        return true;
    }

    private static bool TrySetParameter(NpgsqlConnectionStringBuilder builder, string key, string value)
    {
        // libpq names that differ from Npgsql's keywords.
        key = key.ToLowerInvariant() switch
        {
            "sslmode" => "SSL Mode",
            "connect_timeout" => "Timeout",
            "application_name" => "Application Name",
            "sslrootcert" => "Root Certificate",
            "sslcert" => "SSL Certificate",
            "sslkey" => "SSL Key",
            "options" => "Options",
            "target_session_attrs" => "Target Session Attributes",
            var other => other,
        };
        if (key == "SSL Mode")
        {
            // libpq spells the modes in lowercase with dashes; Npgsql's enum has no dash.
            value = value.Replace("-", "", StringComparison.Ordinal);
        }

        try
        {
            builder[key] = value;
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or KeyNotFoundException)
        {
            return false;
        }
    }

    private static DatabaseTarget Sqlite(string path, int timeoutSeconds) =>
        new(DatabaseProvider.Sqlite, $"Data Source={path};Default Timeout={timeoutSeconds};Pooling=True", $"SQLite {path}");
}
