// Package charts draws the monthly process-health chart of a flow as a
// PNG, on the server, with the standard library's image packages and the
// Go fonts of golang.org/x/image: requests filed per week, the median
// time to a decision per week, and each step's share of the waiting time
// with the bottleneck step marked. The same figures give the same bytes
// (no clock, no randomness, a pure-Go rasterizer), so the output is
// golden-tested.
//
// The Go fonts hold Latin, Greek and Cyrillic only. A Chinese chart
// (Health.Lang "zh") is labelled in Chinese with a CJK font found on the
// machine (CJKFontPaths), and in English when there is none; titles are
// ids and numbers.
//
// charts imports nothing of this repository but the flows' figures.
package charts
