// A module of its own: the example is built by docker from this directory
// alone, with no module download, and stays out of nap's module.
module hello

go 1.26
