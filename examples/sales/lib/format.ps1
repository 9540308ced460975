# Helpers dot-sourced by sales.axl.ps1: every step of the workflow sees them.
function Format-Amount([double] $Amount) { $Amount.ToString('0.0', [cultureinfo]::InvariantCulture) }
