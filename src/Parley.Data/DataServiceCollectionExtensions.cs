using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Parley.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>Registers the context factory, a scoped <see cref="ParleyDbContext"/> and the migrator.</summary>
    public static IServiceCollection AddParleyData(this IServiceCollection services, DatabaseTarget target)
    {
        services.AddSingleton(target);
        services.AddSingleton<ParleyDbContextFactory>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddScoped<ParleyDbContext>(sp => sp.GetRequiredService<ParleyDbContextFactory>().CreateDbContext());
        return services;
    }
}
