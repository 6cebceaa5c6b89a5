// Package deploy holds Barrage's deployment files and, as Go code, only the
// tests of them; it exports nothing.
//
// deploy/docker has the Dockerfile and build.sh (the images barrage:dev and
// barrage-etcd:dev, FROM scratch); deploy/kubernetes the manifests and their
// kustomization.yaml. The tests read every document of every file the
// kustomization lists, decode each strictly into its k8s.io/api type (an
// unknown or misspelt field fails), and check that the objects fit together:
// selectors match pod templates, Services reach declared ports of exactly one
// workload, $(VAR) references and ConfigMap keys exist, probes hit declared
// ports, images and security contexts are the intended ones. They build the
// real barrage and etcd binaries and run each container's args with --help,
// which parses every flag without starting anything, so a flag the programs
// do not know fails the tests:
//
//	go test -race ./deploy/          # all checks
//	go test -short ./deploy/         # without building and running the binaries
//
// Concurrency: there is nothing to call; the tests run sequentially.
package deploy
