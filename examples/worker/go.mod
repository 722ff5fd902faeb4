// A module of its own, built by docker from this directory alone.
module worker

go 1.26
