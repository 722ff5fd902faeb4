package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/nap-paas/nap/render"
	"github.com/nap-paas/nap/source"
)

// exportCheckTree exports the tree of commit rev of the bare repository
// check runs in ($GIT_DIR, or the current directory) to a temporary
// directory, within the operator's limits, as a deploy would: for
// "check APP --rev REV". It returns the directory and a function removing it.
func exportCheckTree(app, rev, config string) (string, func(), error) {
	if err := render.ValidApp(app); err != nil {
		return "", nil, &exitError{exitInput, err}
	}
	if err := render.ValidRev(rev); err != nil {
		return "", nil, &exitError{exitInput, err}
	}
	op, err := readOperator(config)
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp("", "nap-check-")
	if err != nil {
		return "", nil, &exitError{exitEnv, err}
	}
	cleanup := func() { os.RemoveAll(tmp) }
	tree := filepath.Join(tmp, app)
	if err := (source.Repo{}).Export(context.Background(), rev, tree, op.Limits); err != nil {
		cleanup()
		return "", nil, treeErr(err)
	}
	return tree, cleanup, nil
}
