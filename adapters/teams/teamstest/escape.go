package teamstest

import "net/url"

func unescape(s string) (string, error) { return url.PathUnescape(s) }
