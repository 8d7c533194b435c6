// Package dashboard serves the process dashboard: each flow drawn as its
// diagram (every step, a conditional step with its condition and the path
// that skips it) with every approval step coloured by its median waiting
// time (a heat map), the flow's bottleneck in plain words, the accuracy of
// past finish-time forecasts, weekly charts of volume and time to a
// decision, the departments, and a CSV export — all server-rendered HTML
// and SVG, no script, in Chinese or English. Its figures come from a
// flowstats.Aggregate, which the handler brings up to date on each page.
package dashboard
