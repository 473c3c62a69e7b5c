package csvin

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Shard selects every Count-th data row, starting with row Index: row Num belongs to shard
// (Num-1) mod Count + 1. The split depends only on the row number, so N machines given the
// same file and shards 1/N … N/N send each row exactly once. The zero value keeps every row.
type Shard struct {
	Index int // 1 … Count
	Count int // 0 = no sharding
}

// Keeps reports whether data row num belongs to this shard.
func (s Shard) Keeps(num int) bool {
	return s.Count <= 1 || (num-1)%s.Count+1 == s.Index
}

func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard reads a --shard value: "K/N" with 1 ≤ K ≤ N, or "auto/N", which takes K from
// the environment variable JOB_COMPLETION_INDEX (0-based, as a Kubernetes Indexed Job sets
// it) plus one. getenv is os.Getenv outside tests; "" gives the zero Shard.
func ParseShard(value string, getenv func(string) string) (Shard, error) {
	if value == "" {
		return Shard{}, nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	k, n, ok := strings.Cut(value, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 1 {
		return Shard{}, fmt.Errorf("--shard %q: write K/N (e.g. 2/4: the second of four shards) or auto/N", value)
	}
	var index int
	if strings.EqualFold(strings.TrimSpace(k), "auto") {
		env := getenv("JOB_COMPLETION_INDEX")
		i, err := strconv.Atoi(strings.TrimSpace(env))
		if err != nil || i < 0 || i >= count {
			return Shard{}, fmt.Errorf("--shard %s: JOB_COMPLETION_INDEX is %q, want 0 … %d; run as a Kubernetes Indexed Job with completions %d or give K/N", value, env, count-1, count)
		}
		index = i + 1
	} else {
		index, err = strconv.Atoi(strings.TrimSpace(k))
		if err != nil || index < 1 || index > count {
			return Shard{}, fmt.Errorf("--shard %q: K must be 1 … %d", value, count)
		}
	}
	return Shard{Index: index, Count: count}, nil
}
