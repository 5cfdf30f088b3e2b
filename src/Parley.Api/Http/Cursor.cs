using System.Buffers.Text;
using System.Linq.Expressions;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace Parley.Api.Http;

/// <summary>
/// Opaque keyset cursors. Lists are ordered by id descending (ids are UUIDv7, so newest first); a cursor
/// names the id to continue after and the direction, so a page is stable while rows are inserted.
/// </summary>
public readonly record struct Cursor(bool Forward, string AfterId)
{
    public string Encode() => Base64Url.EncodeToString(Encoding.UTF8.GetBytes((Forward ? "n|" : "p|") + AfterId));

    public static bool TryDecode(string? value, out Cursor cursor)
    {
        cursor = default;
        if (string.IsNullOrEmpty(value) || value.Length > 200)
        {
            return false;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(value));
            if (text.Length < 3 || text[1] != '|' || text[0] is not ('n' or 'p'))
            {
                return false;
            }

            cursor = new Cursor(text[0] == 'n', text[2..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Applies a cursor to a query ordered by a string key (newest = greatest first); returns one page and
    /// the cursors of the pages after and before it (null at the ends).
    /// </summary>
    public static async Task<(List<T> Items, string? Next, string? Previous)> PageAsync<T>(
        IQueryable<T> query, Expression<Func<T, string>> key, Cursor? cursor, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var idOf = key.Compile();
        if (cursor is { Forward: false } back)
        {
            var newer = await query.Where(Compare(key, back.AfterId, ExpressionType.GreaterThan)).OrderBy(key).Take(limit + 1).ToListAsync(cancellationToken);
            var more = newer.Count > limit;
            var page = newer.Take(limit).Reverse().ToList();
            return (page,
                page.Count > 0 ? new Cursor(true, idOf(page[^1])).Encode() : null,
                more && page.Count > 0 ? new Cursor(false, idOf(page[0])).Encode() : null);
        }

        var filtered = cursor is { } c ? query.Where(Compare(key, c.AfterId, ExpressionType.LessThan)) : query;
        var rows = await filtered.OrderByDescending(key).Take(limit + 1).ToListAsync(cancellationToken);
        var hasMore = rows.Count > limit;
        var items = rows.Take(limit).ToList();
        return (items,
            hasMore ? new Cursor(true, idOf(items[^1])).Encode() : null,
            cursor is not null && items.Count > 0 ? new Cursor(false, idOf(items[0])).Encode() : null);
    }

    /// <summary>`string.Compare(key, id) &lt; 0` (or &gt;), which EF translates to a plain comparison.</summary>
    private static Expression<Func<T, bool>> Compare<T>(Expression<Func<T, string>> key, string id, ExpressionType comparison)
    {
        var compare = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;
        var call = Expression.Call(compare, key.Body, Expression.Constant(id));
        return Expression.Lambda<Func<T, bool>>(Expression.MakeBinary(comparison, call, Expression.Constant(0)), key.Parameters);
    }
}
