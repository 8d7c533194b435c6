// Command flowbot-scale measures flowbot serve on a large embedded SQLite
// database: the time from process start to the first /healthz answer (and
// to /readyz), the resident memory once idle, and the highest resident
// memory while the load generator (internal/chaos, the same driver as
// flowbot-load) files and decides requests over the Feishu fake and the
// web API.
//
// The database is built once and reused: flowbot serve runs a short real
// load (requests filed, approved, rejected and withdrawn the way users do
// it, every card delivered through the Feishu fake), then the closed
// requests it wrote are copied in bulk with SQL, row for row as the engine
// wrote them (instances, tasks, events, delivered outbox messages, card
// references), with new ids, a numbered suffix on the request number and
// their times moved back, until the database holds -requests requests.
//
//	go build -o /tmp/flowbot ./cmd/flowbot
//	go run ./cmd/flowbot-scale -bin /tmp/flowbot -dir /tmp/scale -requests 1000000
package main
