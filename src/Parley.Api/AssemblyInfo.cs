using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Parley.Api.Tests")]
