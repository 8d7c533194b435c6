// Package flowstats computes process statistics from the event log, the
// instances and the tasks of a flows.Store: per flow, step, approver and
// department it counts requests by outcome and measures the median and p90
// time to a decision, the rejection and overdue rates and the bottleneck
// step; PredictFinish gives an ETA for a new request from history.
//
// Aggregate folds the event log incrementally into weekly cells; on it,
// Summary and Bottleneck give the dashboard's figures, Predict forecasts
// an open request's finish per step and approver on the business calendar
// (p50 and p90, and which step will likely miss its deadline), and
// Accuracy measures how well past requests would have been forecast from
// the weeks before them. Its memory is bounded per cell: durations are
// kept as samples while few, then as log histograms (Durations: exact
// ranks, values within 1.6%), and ratings remember one bit per ended
// request and the cell of the last 65,536 only.
//
// Load reads the rows a query needs; Build and the other functions are pure
// functions over loaded rows, so that one load can serve many reports (the
// daily digest builds one per manager). The package is read-only: it never
// writes to the store. It imports flows (and flows/flowdef) only.
package flowstats
