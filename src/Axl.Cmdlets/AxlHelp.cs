namespace Axl.Cmdlets;

/// <summary>Where the online help lives: each cmdlet's HelpUri is <see cref="OnlineBase"/> + "Verb-Noun.md"
/// (docs/cmdlets in the project's repository), so <c>Get-Help &lt;cmdlet&gt; -Online</c> opens its page.
/// The manifest's ProjectUri, LicenseUri and HelpInfoURI name the same repository; change them together.</summary>
public static class AxlHelp
{
    public const string ProjectUri = "https://github.com/axl-workflows/axl";
    public const string OnlineBase = ProjectUri + "/blob/main/docs/cmdlets/";
}
