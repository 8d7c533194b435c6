// Package e2e owns whole-process tests of flowbot replicas: it builds the
// flowbot binary, runs several `flowbot serve` processes against shared
// PostgreSQL and Redis (or SQLite), drives them through the playground's
// HTTP API and the Feishu fake, kills them and their dependencies, and
// checks what users would notice: final request states, messages shown
// exactly once, reminders, readiness and refusals.
//
// It has no code outside _test.go files and is imported by nothing.
// Benchmarks here (BenchmarkCycles) give the figures of docs/BENCHMARKS.md.
package e2e
