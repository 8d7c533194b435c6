// Command flowbot-load drives a running `flowbot serve` over the real
// protocols, signed and encrypted Feishu webhooks (the Feishu fake of
// adapters/feishu/feishutest receives what flowbot sends) and the web
// API, with a configurable mix of filings, approvals, rejections,
// withdrawals, double clicks and duplicate deliveries. It prints a
// progress line, throughput and latency percentiles per operation, and
// checks at the end every request, task, outbox message and Feishu send
// (package internal/chaos).
//
// Load against a server you run:
//
//	flowbot-load -setup DIR -fake 127.0.0.1:9999 -url http://127.0.0.1:8080 -events 5000
//
// writes the expense flow and a Feishu-only copy of the example company
// to DIR, starts the fake, prints the config keys to give `flowbot serve`
// (flows, directory, feishu), waits for /readyz, then drives the load;
// -db names the server's SQLite file, read-only, for the checks.
//
// Chaos mode starts, kills, freezes and restarts flowbot itself:
//
//	flowbot-load -chaos -bin ./flowbot -setup DIR -events 20000 -kills 12 -freeze 4s
//
// Two replicas on a private PostgreSQL and Redis (initdb, pg_ctl and
// redis-server started on free ports in a temp directory; the machine's
// own servers are never touched), with Redis killed and PostgreSQL
// stopped "immediate" in turn under load, each down for -down:
//
//	flowbot-load -chaos -bin ./flowbot -setup DIR -events 14000 -kills 10 -replicas 2 -private -restarts 8
//
// It exits 1 when a check fails.
package main
