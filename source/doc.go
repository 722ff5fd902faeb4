// Package source is the pushed tree, confined. It is the only code that
// opens files of an app's repository: it exports the tree of a commit
// (after holding its size to the operator's limits), reads nap.yaml and the
// Dockerfile from it, and checks what docker will open by name.
//
// A pushed tree is untrusted. Nothing here follows a symlink: nap.yaml, the
// Dockerfile, the build context and every directory on their paths must be
// real files and directories of the tree, and .dockerignore files regular
// ones, so that neither nap nor docker (which runs the build as root) reads
// outside the tree through them. Symlinks further inside the context are
// left to docker, which resolves them within the context. A refused path is
// an *Error naming the path in the repository, never a byte of what it
// points at.
package source
