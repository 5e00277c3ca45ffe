package main

import (
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWebApp checks that the demo page and every file it loads are served
// by the embedded default, under the root and under an API_PREFIX.
func TestWebApp(t *testing.T) {
	for _, prefix := range []string{"", "/api"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			base, _ := start(t, map[string]string{"API_PREFIX": prefix})
			get := func(path string) (*http.Response, string) {
				t.Helper()
				res, err := http.Get(base + prefix + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return res, string(b)
			}
			res, page := get("/")
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("GET %s/: %d %q", prefix, res.StatusCode, res.Header.Get("Content-Type"))
			}
			refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
			if len(refs) < 3 {
				t.Fatalf("the page loads %d files, want its icon, script and style sheet", len(refs))
			}
			want := map[string]string{".js": "text/javascript", ".css": "text/css"}
			for _, ref := range refs {
				if strings.HasPrefix(ref[1], "data:") {
					continue // inline, such as the empty favicon
				}
				if !strings.HasPrefix(ref[1], "app/") {
					t.Fatalf("the page loads %q, not a file of its own under app/", ref[1])
				}
				res, _ := get("/" + ref[1])
				if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), want[filepath.Ext(ref[1])]) {
					t.Fatalf("GET %s: %d %q", ref[1], res.StatusCode, res.Header.Get("Content-Type"))
				}
			}
			// The module the app imports.
			if res, _ := get("/app/sio.js"); res.StatusCode != http.StatusOK {
				t.Fatalf("GET app/sio.js: %d", res.StatusCode)
			}
			// Files only: no listing, no unknown file, no second copy of the page.
			for _, path := range []string{"/app/", "/app/nothing.js", "/app/index.html", "/app/../go.mod"} {
				if res, body := get(path); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "ROUTE_NOT_FOUND") {
					t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
				}
			}
			// The API still answers beside the page, and unknown paths too.
			if res, _ := get("/healthz"); res.StatusCode != http.StatusOK {
				t.Fatalf("GET healthz: %d", res.StatusCode)
			}
			if res, body := get("/nothing-here"); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "ROUTE_NOT_FOUND") {
				t.Fatalf("GET unknown path: %d %s", res.StatusCode, body)
			}
		})
	}
}

// TestWebAppSelfContained checks that no embedded file refers to another
// host: no absolute http(s) URL, no protocol-relative one.
func TestWebAppSelfContained(t *testing.T) {
	external := regexp.MustCompile(`https?://|["'(]//[A-Za-z0-9]`)
	n := 0
	err := fs.WalkDir(webFiles, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(webFiles, path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if external.MatchString(line) {
				t.Errorf("%s:%d refers to another host: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("%d embedded files, want the page, its script, its Socket.IO client and its style sheet", n)
	}
}
