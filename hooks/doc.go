// Package hooks is the git side of nap: the ssh forced command that admits
// pushes and fetches of app repositories, the pre-receive hook that runs
// `nap-render deploy` before a branch moves, authorized_keys entries, and the
// installation of both into a plain nap user's home or into gitolite.
//
// It deploys nothing itself: the hook runs the deploy command it is given,
// and a failure of that command rejects the push.
package hooks
