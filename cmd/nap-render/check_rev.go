package main

import (
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/deploy"
	"github.com/nap-paas/nap/render"
)

// check APP --rev REV (check.go) reads the tree of REV of the bare
// repository it runs in ($GIT_DIR, or the current directory) through
// exportCheckTree: the same export a deploy does, into a temporary directory.
func init() { checkTree = exportCheckTree }

func exportCheckTree(app, rev string) (string, func(), error) {
	if err := render.ValidApp(app); err != nil {
		return "", nil, &exitError{exitInput, err}
	}
	if err := render.ValidRev(rev); err != nil {
		return "", nil, &exitError{exitInput, err}
	}
	tmp, err := os.MkdirTemp("", "nap-check-")
	if err != nil {
		return "", nil, &exitError{exitEnv, err}
	}
	cleanup := func() { os.RemoveAll(tmp) }
	tree := filepath.Join(tmp, app)
	if err := deploy.ExportTree("", rev, tree, os.Environ()); err != nil {
		cleanup()
		return "", nil, deployErr(err)
	}
	return tree, cleanup, nil
}
