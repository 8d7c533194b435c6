// Package examples embeds the demo data that `flowbot serve` runs with when
// no config says otherwise: the example flows, the example company and the
// working calendar.
package examples

import "embed"

// FS holds flows/*.yaml, org.yaml and calendar.yaml.
//
//go:embed flows/*.yaml org.yaml calendar.yaml
var FS embed.FS
