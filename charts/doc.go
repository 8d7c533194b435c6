// Package charts draws the monthly process-health chart of a flow as a
// PNG, on the server, with the standard library's image packages and the
// Go fonts of golang.org/x/image: requests filed per week, the median
// time to a decision per week, and each step's share of the waiting time
// with the bottleneck step marked. The same figures give the same bytes
// (no clock, no randomness, a pure-Go rasterizer), so the output is
// golden-tested.
//
// The Go fonts hold Latin, Greek and Cyrillic only: labels are numbers,
// dates and step ids, and the card or page around the image says the rest
// in the reader's language.
//
// charts imports nothing of this repository.
package charts
