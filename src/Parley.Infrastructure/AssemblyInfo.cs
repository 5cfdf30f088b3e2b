using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Parley.Infrastructure.Tests")]
