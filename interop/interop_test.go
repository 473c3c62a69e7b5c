// Package interop holds the harness that checks smscast's SMPP against node-smpp, an SMPP
// implementation written by other people; see scripts/interop.sh.
package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestInterop runs scripts/interop.sh. It needs node and npm (and installs npm "smpp" 0.5.1
// into a cache outside the repository), so it runs only with SMSCAST_INTEROP=1 and the default
// `go test ./...` stays offline.
func TestInterop(t *testing.T) {
	if os.Getenv("SMSCAST_INTEROP") != "1" {
		t.Skip("set SMSCAST_INTEROP=1 to run the node-smpp interop check (needs node and npm)")
	}
	for _, tool := range []string{"bash", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("SMSCAST_INTEROP=1 but %s is not installed: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "interop.sh"))
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("scripts/interop.sh:\n%s", out)
	if err != nil {
		t.Fatalf("scripts/interop.sh failed: %v (the not ok lines above say what)", err)
	}
	m := regexp.MustCompile(`(?m)^interop: (\d+) passed, (\d+) failed`).FindSubmatch(out)
	if m == nil {
		t.Fatal(`scripts/interop.sh printed no "interop: N passed, M failed" line`)
	}
	passed, _ := strconv.Atoi(string(m[1]))
	if string(m[2]) != "0" || passed < 100 {
		t.Fatalf("scripts/interop.sh: %s passed, %s failed; want 0 failed and the full set of checks (≥ 100)", m[1], m[2])
	}
}
