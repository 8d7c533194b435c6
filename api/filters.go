package api

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/flowbot/flowbot/flows"
)

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$`)

// requestFilter is the parsed query of GET /requests and the exports.
type requestFilter struct {
	flows.InstanceFilter
}

var statuses = map[string]flows.Status{
	"pending": flows.StatusPending, "returned": flows.StatusReturned, "approved": flows.StatusApproved,
	"rejected": flows.StatusRejected, "withdrawn": flows.StatusWithdrawn, "failed": flows.StatusFailed,
	"cancelled": flows.StatusCancelled,
}

// parseRequestFilter checks every filter of a request listing: unknown
// parameters, ids with odd characters, bad statuses, times and limits are
// refused rather than ignored.
func parseRequestFilter(q url.Values, maxLimit int) (requestFilter, error) {
	var f requestFilter
	for k, vs := range q {
		if len(vs) != 1 {
			return f, errInvalid("参数 "+k+" 只能出现一次。", "Parameter "+k+" may appear once.")
		}
		v := vs[0]
		switch k {
		case "flow":
			if !idRe.MatchString(v) {
				return f, errInvalid("flow 不是合法的流程 id。", "flow is not a valid flow id.")
			}
			f.FlowID = v
		case "applicant":
			if !idRe.MatchString(v) {
				return f, errInvalid("applicant 不是合法的用户 id。", "applicant is not a valid user id.")
			}
			f.Applicant = v
		case "status":
			for _, s := range strings.Split(v, ",") {
				st, ok := statuses[s]
				if !ok {
					return f, errInvalid("status 只能是 pending、returned、approved、rejected、withdrawn、failed、cancelled。", "status must be pending, returned, approved, rejected, withdrawn, failed or cancelled.")
				}
				f.Status = append(f.Status, st)
			}
		case "since":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, errInvalid("since 须为 RFC 3339 时间。", "since must be an RFC 3339 time.")
			}
			f.Since = t
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxLimit {
				return f, errInvalid("limit 须为 1 到 "+strconv.Itoa(maxLimit)+" 的整数。", "limit must be an integer from 1 to "+strconv.Itoa(maxLimit)+".")
			}
			f.Limit = n
		case "cursor":
			at, id, err := decodeCursor(v)
			if err != nil {
				return f, err
			}
			f.BeforeAt, f.BeforeID = at, id
		case "format":
			if v != "csv" && v != "jsonl" {
				return f, errInvalid("format 只能是 csv 或 jsonl。", "format must be csv or jsonl.")
			}
		default:
			return f, errInvalid("未知参数 "+k+"。", "Unknown parameter "+k+".")
		}
	}
	return f, nil
}
