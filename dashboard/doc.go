// Package dashboard serves the process dashboard: each flow drawn as its
// steps with every step coloured by its median waiting time (a heat map),
// the flow's bottleneck in plain words, weekly charts of volume and time to
// a decision, the departments, and a CSV export — all server-rendered HTML
// and SVG, no script, in Chinese or English. Its figures come from a
// flowstats.Aggregate, which the handler brings up to date on each page.
package dashboard
