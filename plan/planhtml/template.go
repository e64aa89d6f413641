package planhtml

import (
	"html/template"
	"sync"
)

// page is parsed on first use, not when every klpc command starts.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

// pageHTML is the page: html/template escapes every value from the plan.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="klpc">
<title>{{.Title}}</title>
<style>
:root { --fg:#1d2330; --muted:#5b6474; --line:#d5dae2; --bg:#ffffff; --head:#f3f5f8;
  --err:#c62828; --errbg:#fdecea; --warn:#a66300; --warnbg:#fff4e0; --ok:#2e7d32; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, .mono, td.impl, th.func, pre { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12.5px; }
.summary { color: var(--muted); margin: 0 0 8px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: bold; }
.badge.error { background: var(--errbg); color: var(--err); }
.badge.warning { background: var(--warnbg); color: var(--warn); }
.badge.clean { background: #e8f5e9; color: var(--ok); }
.badge.line { background: #e3ecfa; color: #1f4f99; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--head); }
.scroll { overflow-x: auto; max-width: 100%; }
table.timeline th.step { min-width: 150px; font-weight: normal; }
table.timeline th.step .label { font-weight: bold; display: block; }
table.timeline th.step.refused { background: var(--errbg); border-top: 3px solid var(--err); }
table.timeline th.step.expected { background: var(--warnbg); border-top: 3px solid var(--warn); }
table.timeline th.step.ok { border-top: 3px solid var(--ok); }
table.timeline th.step.has-error { box-shadow: inset 0 -3px 0 var(--err); }
table.timeline th.step.has-warning { box-shadow: inset 0 -3px 0 var(--warn); }
table.timeline th.step .reason { display: block; color: var(--err); font-size: 12px; }
table.timeline th.step.expected .reason { color: var(--warn); }
table.timeline th.step .sysfs { display: block; color: var(--muted); font-size: 11px; }
th.func { background: var(--head); white-space: nowrap; }
td.impl { white-space: nowrap; }
td.impl.original { color: var(--muted); }
td.impl.absent { color: #9aa3b1; font-style: italic; background: repeating-linear-gradient(45deg, #fafbfc, #fafbfc 4px, #f0f2f5 4px, #f0f2f5 8px); }
td.impl.changed { font-weight: bold; }
td.impl.reverted { background: var(--errbg); color: var(--err); }
td.impl.at-refused { outline: 2px dashed var(--err); outline-offset: -3px; }
td.impl .lpname { display: block; margin-left: 1.2em; font-size: 11px; font-weight: normal; color: var(--muted); }
td.impl .chg { display: inline-block; width: 1.2em; color: var(--fg); }
td.impl.reverted .chg { color: var(--err); }
.lp0 { background: #e3f2fd; } .lp1 { background: #e8f5e9; } .lp2 { background: #f3e5f5; } .lp3 { background: #fff8e1; }
.lp4 { background: #e0f7fa; } .lp5 { background: #fce4ec; } .lp6 { background: #f1f8e9; } .lp7 { background: #ede7f6; }
.swatch { display: inline-block; width: 12px; height: 12px; border: 1px solid var(--line); vertical-align: middle; margin-right: 4px; }
.legend span.item { margin-right: 14px; white-space: nowrap; }
tr.diags td { font-size: 12px; }
tr.diags a { display: block; text-decoration: none; }
tr.diags a.error { color: var(--err); }
tr.diags a.warning { color: var(--warn); }
td.notbuilt { color: #9aa3b1; text-align: center; }
td.built ul { margin: 0; padding-left: 16px; }
.diag { border-left: 4px solid var(--err); background: #fffafa; padding: 6px 12px; margin: 10px 0; }
.diag.warning { border-left-color: var(--warn); background: #fffdf7; }
.diag .head { font-weight: bold; }
.diag .sev { text-transform: uppercase; font-size: 12px; }
.diag.error .sev { color: var(--err); } .diag.warning .sev { color: var(--warn); }
.diag .code, .diag .where { color: var(--muted); font-weight: normal; }
.diag pre { background: #f6f8fa; border: 1px solid var(--line); padding: 6px 8px; margin: 6px 0; overflow-x: auto; }
.diag pre .ln { color: #9aa3b1; user-select: none; }
.diag pre mark { background: #ffe0e0; color: var(--err); text-decoration: underline wavy var(--err); }
.diag.warning pre mark { background: #fff1cc; color: var(--warn); text-decoration-color: var(--warn); }
.diag p { margin: 4px 0; }
.diag ul.related { margin: 4px 0; color: var(--muted); }
svg.icon { width: 14px; height: 14px; vertical-align: -2px; }
</style>
</head>
<body>
<svg width="0" height="0" style="position:absolute" aria-hidden="true">
<defs>
<symbol id="i-ok" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2e7d32"/><path d="M4.5 8.3l2.3 2.3 4.7-4.9" stroke="#fff" stroke-width="1.8" fill="none"/></symbol>
<symbol id="i-refused" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#c62828"/><path d="M5 5l6 6M11 5l-6 6" stroke="#fff" stroke-width="1.8"/></symbol>
<symbol id="i-expected" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#a66300"/><path d="M5 8h6" stroke="#fff" stroke-width="2"/></symbol>
<symbol id="i-error" viewBox="0 0 16 16"><path d="M8 1l7 13H1z" fill="#c62828"/><path d="M8 6v4M8 11.5v1" stroke="#fff" stroke-width="1.6"/></symbol>
<symbol id="i-warning" viewBox="0 0 16 16"><path d="M8 1l7 13H1z" fill="#e69a00"/><path d="M8 6v4M8 11.5v1" stroke="#fff" stroke-width="1.6"/></symbol>
</defs>
</svg>
<header>
<h1>{{.Title}}</h1>
<p class="summary" id="summary">{{.Summary}}</p>
<p>{{if .Errors}}<span class="badge error">{{.Errors}} error{{if ne .Errors 1}}s{{end}}</span> {{end}}{{if .Warnings}}<span class="badge warning">{{.Warnings}} warning{{if ne .Warnings 1}}s{{end}}</span>{{end}}{{if and (not .Errors) (not .Warnings)}}<span class="badge clean">no errors</span>{{end}}</p>
</header>

<section id="kernels">
<h2>Kernels</h2>
<table>
<thead><tr><th>kernel</th><th>release</th><th>livepatch core modelled</th></tr></thead>
<tbody>
{{- range .Kernels}}
<tr data-kernel="{{.Name}}"><td><b>{{.Name}}</b></td><td class="mono">{{.Release}}</td><td><span class="badge line">Linux {{.Line}}</span> verified on {{.Verified}} ({{.How}})</td></tr>
{{- end}}
</tbody>
</table>
</section>

<section id="matrix">
<h2>Releases &times; kernels</h2>
<table class="matrix">
<thead><tr><th>release</th>{{range .Matrix.Kernels}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Matrix.Rows}}
<tr data-livepatch="{{.Livepatch}}"><th><b>{{.Livepatch}}</b><br><small>{{.Mode}}; fixes {{.Fixes}}</small></th>
{{- range .Cells}}
{{- if .Built}}<td class="built" data-kernel="{{.Kernel}}"><ul>{{.ModulesHTML}}</ul></td>
{{- else}}<td class="notbuilt" data-kernel="{{.Kernel}}">not built</td>{{end}}
{{- end}}</tr>
{{- end}}
</tbody>
</table>
</section>

<section id="deployments">
<h2>Deployments</h2>
{{- if .Legend}}
<p class="legend">{{range .Legend}}<span class="item"><span class="swatch lp{{.Colour}}"></span>{{.Livepatch}}</span>{{end}}<span class="item"><b>+</b> patched, <b>~</b> another replacement, <b>&minus;</b> back to the original, <b>*</b> module came or went</span></p>
{{- end}}
{{- range .Deployments}}
<article class="deployment" id="{{.ID}}" data-deployment="{{.Name}}">
<h3>Deployment {{.Name}} on kernel {{.Kernel}}{{if .Release}} <span class="mono">({{.Release}})</span>{{end}} {{if .Line}}<span class="badge line" data-line="{{.Line}}">Linux {{.Line}} livepatch core</span>{{end}}</h3>
{{- if .Modules}}<p>Modules loaded at boot: <code>{{.Modules}}</code></p>{{end}}
<div class="scroll">
<table class="timeline">
<thead><tr><th>function</th>
{{- range .Steps}}<th class="step {{.Status}}{{if .HasError}} has-error{{else if .HasWarn}} has-warning{{end}}" data-step="{{.Index}}" data-status="{{.Status}}"><svg class="icon"><use href="#i-{{.Status}}"/></svg> <span class="label">{{.Index}}. {{.Label}}</span>{{if .Reason}}<span class="reason">{{if eq .Status "expected"}}refused, as expected: {{else}}REFUSED: {{end}}{{.Reason}}</span>{{end}}{{if .Sysfs}}<span class="sysfs">{{.Sysfs}}</span>{{end}}</th>{{end}}</tr></thead>
<tbody>
{{- .TimelineRows}}
{{- if .DiagRow}}
<tr class="diags"><th class="func">diagnostics</th>{{range .Steps}}<td data-step="{{.Index}}">{{range .Diags}}<a class="{{.Severity}}" href="#{{.ID}}"><svg class="icon"><use href="#i-{{.Severity}}"/></svg> {{.Summary}}</a>{{end}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
</div>
</article>
{{- else}}
<p>No deployments.</p>
{{- end}}
</section>

<section id="diagnostics">
<h2>Diagnostics</h2>
{{- range .Diagnostics}}
<div class="diag {{.Severity}}" id="{{.ID}}" data-code="{{.Code}}">
<div class="head"><svg class="icon"><use href="#i-{{.Severity}}"/></svg> <span class="sev">{{.Severity}}</span> {{.Summary}} <span class="code">[{{.Code}}]</span> <span class="where">{{.Where}}</span></div>
{{- if .Snippet}}
<pre>{{range .Snippet}}<span class="ln">{{printf "%4d" .Number}} | </span>{{.Before}}<mark>{{.Mark}}</mark>{{.Rest}}
{{end}}</pre>
{{- end}}
{{- range .Detail}}
<p>{{.}}</p>
{{- end}}
{{- if .Related}}
<ul class="related">{{range .Related}}<li><span class="mono">{{.Where}}</span>: {{.Message}}</li>{{end}}</ul>
{{- end}}
</div>
{{- else}}
<p>No diagnostics.</p>
{{- end}}
</section>
</body>
</html>
`
