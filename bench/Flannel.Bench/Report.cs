namespace Flannel.Bench;

/// <summary>Result rows, printed as a markdown table (figure, same-run baseline or ratio, goal, met) as they come.</summary>
internal sealed class Report
{
    private readonly string _command;

    public Report(string command)
    {
        _command = command;
        Console.WriteLine("| benchmark | figure (median) | same-run baseline / ratio | goal | met | command |");
        Console.WriteLine("|---|---|---|---|---|---|");
    }

    public void Row(string name, string figure, string baseline, string goal, string met)
    {
        Console.WriteLine($"| {name} | {figure} | {baseline} | {goal} | {met} | `{_command}` |");
        Console.Out.Flush();
    }
}
