package rendezvous_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modulePath is the import path of the root package.
const modulePath = "github.com/rendezvous-go/rendezvous"

// goPackage is the parsed non-test source of one directory.
type goPackage struct {
	dir    string
	files  []*ast.File
	consts map[string]string // package-level string constants
}

// parseModule parses every non-test .go file of the module, by directory.
func parseModule(t *testing.T) (map[string]*goPackage, *token.FileSet) {
	t.Helper()
	fset := token.NewFileSet()
	pkgs := map[string]*goPackage{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		p := pkgs[dir]
		if p == nil {
			p = &goPackage{dir: dir, consts: map[string]string{}}
			pkgs[dir] = p
		}
		p.files = append(p.files, f)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringLit(vs.Values[i]); ok {
							p.consts[n.Name] = s
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs, fset
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// importDirs maps a file's import names to module directories.
func importDirs(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		if path != modulePath && !strings.HasPrefix(path, modulePath+"/") {
			continue
		}
		dir := "."
		if path != modulePath {
			dir = strings.TrimPrefix(path, modulePath+"/")
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if path == modulePath {
			name = "rendezvous"
		}
		if im.Name != nil {
			name = im.Name.Name
		}
		out[name] = dir
	}
	return out
}

// TestErrorCodesAreDefinedOnce finds every error definition of the module,
// rv.E(kind, "CODE", …) and rv.Error{Code: "CODE"} (E and Error inside the
// root package), and fails when a Code is defined twice: shared codes live
// in the root package and are reused with WithMessage or Wrap.
func TestErrorCodesAreDefinedOnce(t *testing.T) {
	pkgs, fset := parseModule(t)
	defs := map[string][]string{} // code → positions
	for _, p := range pkgs {
		for _, f := range p.files {
			imports := importDirs(f)
			// isRoot reports whether e names the root package's ident.
			isRoot := func(e ast.Expr, ident string) bool {
				switch e := e.(type) {
				case *ast.Ident:
					return p.dir == "." && e.Name == ident
				case *ast.SelectorExpr:
					x, ok := e.X.(*ast.Ident)
					return ok && e.Sel.Name == ident && imports[x.Name] == "."
				}
				return false
			}
			// code resolves a string literal or a string constant.
			code := func(e ast.Expr) (string, bool) {
				if s, ok := stringLit(e); ok {
					return s, true
				}
				switch e := e.(type) {
				case *ast.Ident:
					s, ok := p.consts[e.Name]
					return s, ok
				case *ast.SelectorExpr:
					if x, ok := e.X.(*ast.Ident); ok {
						if dir, ok := imports[x.Name]; ok && pkgs[dir] != nil {
							s, ok := pkgs[dir].consts[e.Sel.Name]
							return s, ok
						}
					}
				}
				return "", false
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if isRoot(n.Fun, "E") && len(n.Args) >= 2 {
						if c, ok := code(n.Args[1]); ok {
							defs[c] = append(defs[c], fset.Position(n.Pos()).String())
						}
					}
				case *ast.CompositeLit:
					if isRoot(n.Type, "Error") {
						for _, el := range n.Elts {
							kv, ok := el.(*ast.KeyValueExpr)
							if k, isIdent := kv.Key.(*ast.Ident); ok && isIdent && k.Name == "Code" {
								if c, ok := code(kv.Value); ok {
									defs[c] = append(defs[c], fset.Position(n.Pos()).String())
								}
							}
						}
					}
				}
				return true
			})
		}
	}
	t.Logf("%d error codes defined", len(defs))
	if len(defs) < 10 {
		t.Fatalf("found only %d error codes: the scan is broken", len(defs))
	}
	var dups []string
	for c, at := range defs {
		if len(at) > 1 {
			sort.Strings(at)
			dups = append(dups, c+" at "+strings.Join(at, ", "))
		}
	}
	sort.Strings(dups)
	for _, d := range dups {
		t.Errorf("error code defined more than once: %s", d)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		t.Fatalf("the test must run from the module root: %v", err)
	}
}
