package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// The multi-container test runs the real images with the Kubernetes
// manifests' own arguments and environment: each pod template becomes a
// Docker container on a private network of its own, the Services' names
// become network aliases. It needs a Docker engine (CI has one).

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

func docker(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// manifests reads the workloads of deploy/kubernetes.
type manifests struct {
	etcd        *appsv1.StatefulSet
	coordinator *appsv1.Deployment
	agent       *appsv1.Deployment
	config      map[string]string // ConfigMap "barrage"
}

func readManifests(t *testing.T, dir string) manifests {
	t.Helper()
	var m manifests
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			var meta struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			switch {
			case meta.Kind == "StatefulSet" && meta.Metadata.Name == "etcd":
				m.etcd = &appsv1.StatefulSet{}
				err = yaml.UnmarshalStrict([]byte(doc), m.etcd)
			case meta.Kind == "Deployment" && meta.Metadata.Name == "barrage-coordinator":
				m.coordinator = &appsv1.Deployment{}
				err = yaml.UnmarshalStrict([]byte(doc), m.coordinator)
			case meta.Kind == "Deployment" && meta.Metadata.Name == "barrage-agent":
				m.agent = &appsv1.Deployment{}
				err = yaml.UnmarshalStrict([]byte(doc), m.agent)
			case meta.Kind == "ConfigMap" && meta.Metadata.Name == "barrage":
				var cm corev1.ConfigMap
				err = yaml.UnmarshalStrict([]byte(doc), &cm)
				m.config = cm.Data
			}
			if err != nil {
				t.Fatalf("%s: %s %s: %v", f, meta.Kind, meta.Metadata.Name, err)
			}
		}
	}
	if m.etcd == nil || m.coordinator == nil || m.agent == nil || m.config == nil {
		t.Fatalf("deploy/kubernetes lacks the etcd StatefulSet, a Deployment or the ConfigMap: %+v", m)
	}
	return m
}

// pod is one container to run, as Kubernetes would from a pod template.
type pod struct {
	name, ip string
	aliases  []string
	spec     corev1.Container
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// dockerArgs turns the pod into `docker run` arguments: the container's
// env resolved (downward API: the pod's name, IP and a node name;
// ConfigMap keys), $(VAR) references in args expanded as the kubelet does.
func (p pod) dockerArgs(t *testing.T, network, image string, config map[string]string) []string {
	t.Helper()
	env := map[string]string{}
	var order []string
	for _, e := range p.spec.Env {
		v := e.Value
		if f := e.ValueFrom; f != nil {
			switch {
			case f.FieldRef != nil && f.FieldRef.FieldPath == "metadata.name":
				v = p.name
			case f.FieldRef != nil && f.FieldRef.FieldPath == "status.podIP":
				v = p.ip
			case f.FieldRef != nil && f.FieldRef.FieldPath == "spec.nodeName":
				v = "docker-node"
			case f.FieldRef != nil && f.FieldRef.FieldPath == "metadata.namespace":
				v = "barrage"
			case f.ConfigMapKeyRef != nil:
				var ok bool
				if v, ok = config[f.ConfigMapKeyRef.Key]; !ok {
					t.Fatalf("%s: env %s: no key %q in the ConfigMap", p.name, e.Name, f.ConfigMapKeyRef.Key)
				}
			default:
				t.Fatalf("%s: env %s: unsupported source %+v", p.name, e.Name, f)
			}
		}
		env[e.Name] = v
		order = append(order, e.Name)
	}
	args := []string{"run", "-d", "--name", p.name, "--hostname", p.name, "--network", network, "--ip", p.ip}
	for _, a := range p.aliases {
		args = append(args, "--network-alias", a)
	}
	for _, k := range order {
		args = append(args, "-e", k+"="+env[k])
	}
	args = append(args, image)
	for _, a := range append(append([]string(nil), p.spec.Command...), p.spec.Args...) {
		args = append(args, varRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			if v, ok := env[name]; ok {
				return v
			}
			return ref // as the kubelet does with an unknown variable
		}))
	}
	return args
}

func httpGet(url string) (int, string) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestKubernetesManifestsRunInDocker builds the real images, runs etcd, two
// coordinators and two agents with the manifests' arguments, and a target,
// each in its own container on a private network; runs a load, kills the
// leading coordinator in the middle, and checks that the follower takes
// over and the run completes with every request counted exactly once.
func TestKubernetesManifestsRunInDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("containers")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker command: the multi-container test needs a Docker engine")
	}
	if _, err := docker(t, "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	root := repoRoot(t)
	m := readManifests(t, filepath.Join(root, "deploy", "kubernetes"))
	id := fmt.Sprintf("e2e%d", rand.IntN(1_000_000))
	tag := id
	build := exec.Command(filepath.Join(root, "deploy", "docker", "build.sh"))
	build.Dir = root
	build.Env = append(os.Environ(), "TAG="+tag, "VERSION=e2e")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("deploy/docker/build.sh: %v\n%s", err, out)
	}
	images := map[string]string{"barrage:dev": "barrage:" + tag, "barrage-etcd:dev": "barrage-etcd:" + tag}
	t.Cleanup(func() { docker(t, "rmi", "-f", images["barrage:dev"], images["barrage-etcd:dev"]) })

	// A private network: nothing outside it is reachable from the
	// containers (--internal); the host reaches them by address.
	var network, subnet, prefix string
	for try := 0; ; try++ {
		a, b := 200+rand.IntN(50), rand.IntN(250)
		prefix = fmt.Sprintf("10.%d.%d.", a, b)
		subnet, network = prefix+"0/24", "barrage-"+id
		if _, err := docker(t, "network", "create", "--internal", "--subnet", subnet, network); err == nil {
			break
		} else if try == 5 {
			t.Fatal(err)
		}
	}
	var started []string
	t.Cleanup(func() {
		if t.Failed() {
			for _, c := range started {
				logs, _ := exec.Command("docker", "logs", "--tail", "40", c).CombinedOutput()
				t.Logf("---- %s ----\n%s", c, logs)
			}
		}
		if len(started) > 0 {
			docker(t, append([]string{"rm", "-f"}, started...)...)
		}
		docker(t, "network", "rm", network)
	})
	config := map[string]string{}
	for k, v := range m.config {
		config[k] = v
	}
	config["allow-targets"] = subnet // as deploy/README.md tells users to
	run := func(p pod) {
		t.Helper()
		image, ok := images[p.spec.Image]
		if !ok {
			t.Fatalf("%s: image %q is not one this project builds", p.name, p.spec.Image)
		}
		mustDocker(t, p.dockerArgs(t, network, image, config)...)
		started = append(started, p.name)
	}
	etcdC := m.etcd.Spec.Template.Spec.Containers[0]
	coordC := m.coordinator.Spec.Template.Spec.Containers[0]
	agentC := m.agent.Spec.Template.Spec.Containers[0]
	// Pod names as the controllers make them; DNS names as the Services
	// give them (a headless Service names each StatefulSet pod).
	run(pod{name: "etcd-0", ip: prefix + "10", aliases: []string{"etcd", "etcd-0.etcd"}, spec: etcdC})
	coords := []pod{
		{name: "barrage-coordinator-" + id + "-a", ip: prefix + "11", aliases: []string{"barrage-coordinator"}, spec: coordC},
		{name: "barrage-coordinator-" + id + "-b", ip: prefix + "12", aliases: []string{"barrage-coordinator"}, spec: coordC},
	}
	for _, p := range coords {
		run(p)
	}
	for i := range 2 {
		run(pod{name: fmt.Sprintf("barrage-agent-%s-%d", id, i), ip: prefix + strconv.Itoa(21+i), spec: agentC})
	}
	targetIP := prefix + "30"
	run(pod{name: "target-" + id, ip: targetIP, spec: corev1.Container{Image: "barrage:dev",
		Args: []string{"target", "--listen", "0.0.0.0:18080", "--in-container", "--log-level", "warn"}}})

	leader := func() int {
		for i, p := range coords {
			if code, _ := httpGet("http://" + p.ip + ":7080/healthz"); code == 200 {
				return i
			}
		}
		return -1
	}
	waitFor(t, "a leading coordinator", 60*time.Second, func() bool { return leader() >= 0 })
	lead := leader()
	ctlTo := func(ip string) pb.ControlServiceClient {
		conn, err := grpc.NewClient(ip+":7000", grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return pb.NewControlServiceClient(conn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ctl := ctlTo(coords[lead].ip)
	waitFor(t, "two agents", 60*time.Second, func() bool {
		a, err := ctl.ListAgents(ctx, &pb.ListAgentsRequest{})
		return err == nil && len(a.GetAgents()) == 2
	})
	scenario := fmt.Sprintf(`name: in-docker
target: {base_url: "http://%s:18080"}
load: {stages: [{duration: 20s, rate: 200}]}
requests:
  - {name: list, weight: 3, path: "/products?limit={{int 1 20}}"}
  - {name: item, path: "/products/{{int 1 1000}}"}
`, targetIP)
	resp, err := ctl.SubmitRun(ctx, &pb.SubmitRunRequest{FileName: "in-docker.yaml", Scenario: []byte(scenario)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	runID := resp.GetRunId()
	// Kill the leader while the load runs; the other takes over.
	time.Sleep(8 * time.Second)
	mustDocker(t, "kill", coords[lead].name)
	other := 1 - lead
	waitFor(t, "the follower to lead", 60*time.Second, func() bool {
		code, _ := httpGet("http://" + coords[other].ip + ":7080/healthz")
		return code == 200
	})
	ctl = ctlTo(coords[other].ip)
	var res *pb.RunResult
	waitFor(t, "the run to end", 2*time.Minute, func() bool {
		res, err = ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: runID})
		return err == nil && res.GetStatus().GetState() != pb.RunState_RUN_STATE_RUNNING
	})
	st := res.GetStatus()
	code, body := httpGet("http://" + targetIP + ":18080/_stats")
	served := regexp.MustCompile(`"requests":\s*(\d+)`).FindStringSubmatch(body)
	if code != 200 || served == nil {
		t.Fatalf("target stats: %d %s", code, body)
	}
	n, _ := strconv.ParseInt(served[1], 10, 64)
	if st.GetState() != pb.RunState_RUN_STATE_COMPLETED || st.GetRequests() != n || n < 3960 || n > 4040 {
		t.Errorf("run %v (%s): %d requests counted, the target served %d, want both ≈ 4000 and equal",
			st.GetState(), st.GetMessage(), st.GetRequests(), n)
	}
	// The new leader's metrics and web view know the run.
	_, metrics := httpGet("http://" + coords[other].ip + ":7080/metrics")
	var sum float64
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "barrage_requests_total{") && strings.Contains(l, `run="`+runID+`"`) {
			f := strings.Fields(l)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	if int64(sum) != st.GetRequests() {
		t.Errorf("barrage_requests_total sums to %v, the run has %d", sum, st.GetRequests())
	}
	if code, page := httpGet("http://" + coords[other].ip + ":7080/"); code != 200 || !strings.Contains(page, runID) {
		t.Errorf("web view: %d, run id missing", code)
	}
	if code, m := httpGet("http://" + prefix + "21:9090/metrics"); code != 200 || !strings.Contains(m, "barrage_agent_requests_total") {
		t.Errorf("agent metrics: %d", code)
	}
}
