package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/barrage-dev/barrage/internal/allow"
)

// manifestDir holds kustomization.yaml and the files it lists.
const manifestDir = "kubernetes"

// Images the manifests run, and the program in each.
const (
	barrageImage = "barrage:dev"
	etcdImage    = "barrage-etcd:dev"
)

// wantImages is every workload of the manifests and the image of its
// containers: a workload missing here, or missing from the manifests, fails.
var wantImages = map[string]string{
	"StatefulSet/etcd":               etcdImage,
	"Deployment/barrage-coordinator": barrageImage,
	"Deployment/barrage-agent":       barrageImage,
}

// Recommended labels every object and pod template carries.
const (
	labelName      = "app.kubernetes.io/name"
	labelComponent = "app.kubernetes.io/component"
	labelPartOf    = "app.kubernetes.io/part-of"
)

// kustomization is the part of kustomization.yaml the tests understand.
// Decoding is strict: a field added to the file must be added here (and, if
// it changes the objects, taken into account by load).
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	// Images only renames images for a registry; the checks look at the
	// names in the manifests.
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// object is one decoded YAML document.
type object struct {
	src  string // file#document (1-based)
	kind string
	meta *metav1.ObjectMeta
}

func (o object) String() string { return fmt.Sprintf("%s %s/%s", o.src, o.kind, o.meta.Name) }

// workload is a Deployment or a StatefulSet.
type workload struct {
	object
	selector *metav1.LabelSelector
	template *corev1.PodTemplateSpec
	// claims are a StatefulSet's volumeClaimTemplates.
	claims []corev1.PersistentVolumeClaim
	// serviceName is a StatefulSet's governing Service.
	serviceName string
}

type service struct {
	object
	spec *corev1.ServiceSpec
}

// manifests is everything kustomization.yaml lists, decoded.
type manifests struct {
	namespace  string // the kustomization's
	objects    []object
	namespaces []string
	configMaps map[string]*corev1.ConfigMap
	services   []service
	workloads  []workload
}

// docSeparator is a YAML document separator line.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// load reads dir/kustomization.yaml and every document of every file it
// lists, each decoded strictly into its k8s.io/api type.
func load(dir string) (*manifests, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	if k.Kind != "Kustomization" || len(k.Resources) == 0 {
		return nil, fmt.Errorf("kustomization.yaml: kind %q with %d resources, want a Kustomization listing resources", k.Kind, len(k.Resources))
	}
	m := &manifests{namespace: k.Namespace, configMaps: map[string]*corev1.ConfigMap{}}
	var errs []error
	for _, file := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s: %w", file, err))
			continue
		}
		for i, doc := range docSeparator.Split(string(data), -1) {
			src := fmt.Sprintf("%s#%d", file, i+1)
			if err := m.add(src, []byte(doc)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", src, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// add decodes one document into the type its apiVersion and kind name.
func (m *manifests) add(src string, doc []byte) error {
	var probe map[string]any
	if err := yaml.Unmarshal(doc, &probe); err != nil {
		return err
	}
	if probe == nil {
		return nil // only comments
	}
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	o := object{src: src, kind: tm.Kind}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		var v corev1.Namespace
		if err := yaml.UnmarshalStrict(doc, &v); err != nil {
			return err
		}
		o.meta = &v.ObjectMeta
		m.namespaces = append(m.namespaces, v.Name)
	case "v1 ConfigMap":
		var v corev1.ConfigMap
		if err := yaml.UnmarshalStrict(doc, &v); err != nil {
			return err
		}
		o.meta = &v.ObjectMeta
		m.configMaps[v.Name] = &v
	case "v1 Service":
		var v corev1.Service
		if err := yaml.UnmarshalStrict(doc, &v); err != nil {
			return err
		}
		o.meta = &v.ObjectMeta
		m.services = append(m.services, service{o, &v.Spec})
	case "apps/v1 Deployment":
		var v appsv1.Deployment
		if err := yaml.UnmarshalStrict(doc, &v); err != nil {
			return err
		}
		o.meta = &v.ObjectMeta
		m.workloads = append(m.workloads, workload{object: o, selector: v.Spec.Selector, template: &v.Spec.Template})
	case "apps/v1 StatefulSet":
		var v appsv1.StatefulSet
		if err := yaml.UnmarshalStrict(doc, &v); err != nil {
			return err
		}
		o.meta = &v.ObjectMeta
		m.workloads = append(m.workloads, workload{object: o, selector: v.Spec.Selector, template: &v.Spec.Template,
			claims: v.Spec.VolumeClaimTemplates, serviceName: v.Spec.ServiceName})
	default:
		return fmt.Errorf("apiVersion %q kind %q: the tests do not know this kind (add it to manifests.add)", tm.APIVersion, tm.Kind)
	}
	if o.meta.Name == "" {
		return fmt.Errorf("%s without metadata.name", tm.Kind)
	}
	m.objects = append(m.objects, o)
	return nil
}

// containers are the workload's containers, init containers first.
func (w workload) containers() []*corev1.Container {
	var out []*corev1.Container
	for i := range w.template.Spec.InitContainers {
		out = append(out, &w.template.Spec.InitContainers[i])
	}
	for i := range w.template.Spec.Containers {
		out = append(out, &w.template.Spec.Containers[i])
	}
	return out
}

// where names a container of a workload in messages.
func where(w workload, c *corev1.Container) string { return fmt.Sprintf("%v container %s", w, c.Name) }

// hasPort reports whether a container declares port (a name or a number)
// with protocol (empty: TCP).
func hasPort(c *corev1.Container, port intstr.IntOrString, protocol corev1.Protocol) bool {
	if protocol == "" {
		protocol = corev1.ProtocolTCP
	}
	for _, p := range c.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if proto != protocol {
			continue
		}
		if port.Type == intstr.String && p.Name != "" && p.Name == port.StrVal ||
			port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return true
		}
	}
	return false
}

// expand expands $(NAME) the way the kubelet expands a container's command
// and args: $$ is a literal $, and a reference to an undefined name stays as
// written. It also returns the names referenced.
func expand(s string, lookup func(string) (string, bool)) (string, []string) {
	var b strings.Builder
	var refs []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String(), refs
			}
			name := s[i+2 : i+2+end]
			refs = append(refs, name)
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), refs
}

// fieldSamples are sample values of the downward API fields an env var may
// take (metadata.name and metadata.namespace are filled in per pod).
var fieldSamples = map[string]string{
	"metadata.name":           "",
	"metadata.namespace":      "",
	"metadata.uid":            "6f1c2b7e-3d4a-4e5f-8a9b-0c1d2e3f4a5b",
	"spec.nodeName":           "node-1",
	"spec.serviceAccountName": "default",
	"status.hostIP":           "172.18.0.2",
	"status.hostIPs":          "172.18.0.2",
	"status.podIP":            "10.244.1.7",
	"status.podIPs":           "10.244.1.7",
}

var labelField = regexp.MustCompile(`^metadata\.(labels|annotations)\['([^']+)'\]$`)

// podName is a sample name of one of the workload's pods.
func podName(w workload) string {
	if w.kind == "StatefulSet" {
		return w.meta.Name + "-0"
	}
	return w.meta.Name + "-5f7d8c9b6-x2x9q"
}

// environment resolves a container's environment with sample values for
// the downward API and the ConfigMaps' values; problems (a missing
// ConfigMap or key, an unknown field) are returned as errors.
func (m *manifests) environment(w workload, c *corev1.Container) (map[string]string, []error) {
	env := map[string]string{}
	var errs []error
	at := where(w, c)
	configMap := func(name string) (*corev1.ConfigMap, bool) {
		cm, ok := m.configMaps[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: refers to ConfigMap %q, which the manifests do not define", at, name))
		}
		return cm, ok
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			if cm, ok := configMap(from.ConfigMapRef.Name); ok {
				for k, v := range cm.Data {
					env[from.Prefix+k] = v
				}
			}
		default:
			errs = append(errs, fmt.Errorf("%s: envFrom other than a ConfigMap is not supported by these tests", at))
		}
	}
	for _, e := range c.Env {
		switch vf := e.ValueFrom; {
		case vf == nil:
			v, _ := expand(e.Value, func(n string) (string, bool) { v, ok := env[n]; return v, ok })
			env[e.Name] = v
		case vf.ConfigMapKeyRef != nil:
			ref := vf.ConfigMapKeyRef
			if cm, ok := configMap(ref.Name); ok {
				v, ok := cm.Data[ref.Key]
				if !ok {
					errs = append(errs, fmt.Errorf("%s: env %s: ConfigMap %q has no key %q", at, e.Name, ref.Name, ref.Key))
				}
				env[e.Name] = v
			}
		case vf.FieldRef != nil:
			path := vf.FieldRef.FieldPath
			v, ok := fieldSamples[path]
			switch {
			case path == "metadata.name":
				v = podName(w)
			case path == "metadata.namespace":
				v = m.namespace
			case labelField.MatchString(path):
				sm := labelField.FindStringSubmatch(path)
				if sm[1] == "labels" {
					v, ok = w.template.Labels[sm[2]]
				} else {
					v, ok = w.template.Annotations[sm[2]]
				}
			}
			if !ok {
				errs = append(errs, fmt.Errorf("%s: env %s: the downward API has no field %q for env vars (or the pod lacks that label)", at, e.Name, path))
			}
			env[e.Name] = v
		default:
			errs = append(errs, fmt.Errorf("%s: env %s: only values, ConfigMap keys and downward API fields are supported by these tests", at, e.Name))
		}
	}
	return env, errs
}

// resolvedArgs is a container's args with $(VAR) expanded from its sample
// environment; it reports references to undefined variables.
func (m *manifests) resolvedArgs(w workload, c *corev1.Container) ([]string, []error) {
	env, errs := m.environment(w, c)
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	var out []string
	for _, part := range [][]string{c.Command, c.Args} {
		for _, a := range part {
			s, refs := expand(a, lookup)
			for _, r := range refs {
				if _, ok := env[r]; !ok {
					errs = append(errs, fmt.Errorf("%s: %q refers to $(%s), which is not an env var of the container", where(w, c), a, r))
				}
			}
			out = append(out, s)
		}
	}
	return out, errs
}

// check is one family of checks over the whole set of manifests.
type check struct {
	name string
	fn   func(*manifests) []error
}

var checks = []check{
	{"namespaces", checkNamespaces},
	{"labels", checkLabels},
	{"selectors", checkSelectors},
	{"services", checkServices},
	{"env", checkEnv},
	{"config", checkConfig},
	{"probes", checkProbes},
	{"volumes", checkVolumes},
	{"images", checkImages},
	{"security", checkSecurity},
}

// checkNamespaces: the kustomization's namespace is barrage, it is defined,
// and no object names another one.
func checkNamespaces(m *manifests) []error {
	var errs []error
	if m.namespace != "barrage" {
		errs = append(errs, fmt.Errorf("kustomization namespace %q, want barrage", m.namespace))
	}
	if !slices.Contains(m.namespaces, m.namespace) {
		errs = append(errs, fmt.Errorf("no Namespace object named %q", m.namespace))
	}
	for _, o := range m.objects {
		if o.kind != "Namespace" && o.meta.Namespace != "" && o.meta.Namespace != m.namespace {
			errs = append(errs, fmt.Errorf("%v: namespace %q, want %q", o, o.meta.Namespace, m.namespace))
		}
	}
	return errs
}

// checkLabels: every object is part-of barrage; pod templates carry name,
// component and part-of, the same as their workload's.
func checkLabels(m *manifests) []error {
	var errs []error
	for _, o := range m.objects {
		if got := o.meta.Labels[labelPartOf]; got != "barrage" {
			errs = append(errs, fmt.Errorf("%v: label %s=%q, want barrage", o, labelPartOf, got))
		}
	}
	for _, w := range m.workloads {
		for _, l := range []string{labelName, labelComponent, labelPartOf} {
			got, ok := w.template.Labels[l]
			if !ok || got == "" {
				errs = append(errs, fmt.Errorf("%v: pod template without label %s", w, l))
			} else if got != w.meta.Labels[l] {
				errs = append(errs, fmt.Errorf("%v: pod template label %s=%q, the workload's is %q", w, l, got, w.meta.Labels[l]))
			}
		}
	}
	return errs
}

// checkSelectors: every workload's selector is valid, not empty, and
// matches its pod template's labels.
func checkSelectors(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		if w.selector == nil {
			errs = append(errs, fmt.Errorf("%v: no selector", w))
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%v: selector: %w", w, err))
		case sel.Empty():
			errs = append(errs, fmt.Errorf("%v: empty selector", w))
		case !sel.Matches(labels.Set(w.template.Labels)):
			errs = append(errs, fmt.Errorf("%v: selector %q does not match the pod template's labels %v", w, sel.String(), w.template.Labels))
		}
	}
	return errs
}

// checkServices: every Service selects the pods of exactly one workload,
// and its ports' targetPorts are ports that workload's containers declare;
// a StatefulSet's serviceName is a headless Service that selects it.
func checkServices(m *manifests) []error {
	var errs []error
	for _, s := range m.services {
		if len(s.spec.Selector) == 0 {
			errs = append(errs, fmt.Errorf("%v: no selector", s))
			continue
		}
		sel := labels.SelectorFromSet(s.spec.Selector)
		var hits []workload
		var names []string
		for _, w := range m.workloads {
			if sel.Matches(labels.Set(w.template.Labels)) {
				hits = append(hits, w)
				names = append(names, w.kind+"/"+w.meta.Name)
			}
		}
		if len(hits) != 1 {
			errs = append(errs, fmt.Errorf("%v: selector %q selects the pods of %d workloads %v, want exactly one", s, sel.String(), len(hits), names))
			continue
		}
		w := hits[0]
		for _, p := range s.spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port) // the default
			}
			if !slices.ContainsFunc(w.containers(), func(c *corev1.Container) bool { return hasPort(c, target, p.Protocol) }) {
				errs = append(errs, fmt.Errorf("%v: port %q targets %s, which no container of %v declares", s, p.Name, target.String(), w))
			}
		}
	}
	for _, w := range m.workloads {
		if w.kind != "StatefulSet" {
			continue
		}
		i := slices.IndexFunc(m.services, func(s service) bool { return s.meta.Name == w.serviceName })
		switch {
		case i < 0:
			errs = append(errs, fmt.Errorf("%v: serviceName %q is not a Service of the manifests", w, w.serviceName))
		case m.services[i].spec.ClusterIP != corev1.ClusterIPNone:
			errs = append(errs, fmt.Errorf("%v: its Service %q is not headless", w, w.serviceName))
		case !labels.SelectorFromSet(m.services[i].spec.Selector).Matches(labels.Set(w.template.Labels)):
			errs = append(errs, fmt.Errorf("%v: its Service %q does not select its pods", w, w.serviceName))
		}
	}
	return errs
}

// checkEnv: every env var from a ConfigMap names an existing key, every
// downward API field exists, and every $(VAR) in command and args names an
// env var of the container.
func checkEnv(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		for _, c := range w.containers() {
			_, e := m.resolvedArgs(w, c)
			errs = append(errs, e...)
		}
	}
	return errs
}

// checkConfig: the ConfigMap's values are valid for the programs.
func checkConfig(m *manifests) []error {
	cm, ok := m.configMaps["barrage"]
	if !ok {
		return []error{errors.New("no ConfigMap barrage")}
	}
	v, ok := cm.Data["allow-targets"]
	if !ok {
		return []error{errors.New("ConfigMap barrage: no key allow-targets")}
	}
	var entries []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			entries = append(entries, p)
		}
	}
	if _, err := allow.Parse(entries); err != nil {
		return []error{fmt.Errorf("ConfigMap barrage: allow-targets %q: %w", v, err)}
	}
	return nil
}

// checkProbes: every container has a readiness probe, and every probe
// targets a port the container declares. Exec probes cannot work: the
// images are FROM scratch.
func checkProbes(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		for _, c := range w.template.Spec.Containers {
			at := where(w, &c)
			if c.ReadinessProbe == nil {
				errs = append(errs, fmt.Errorf("%s: no readiness probe", at))
			}
			for _, pr := range []struct {
				kind  string
				probe *corev1.Probe
			}{{"readiness", c.ReadinessProbe}, {"liveness", c.LivenessProbe}, {"startup", c.StartupProbe}} {
				kind, p := pr.kind, pr.probe
				if p == nil {
					continue
				}
				var port intstr.IntOrString
				switch h := p.ProbeHandler; {
				case h.HTTPGet != nil:
					port = h.HTTPGet.Port
				case h.TCPSocket != nil:
					port = h.TCPSocket.Port
				case h.GRPC != nil:
					port = intstr.FromInt32(h.GRPC.Port)
				case h.Exec != nil:
					errs = append(errs, fmt.Errorf("%s: %s probe runs a command, but the images have nothing but the program", at, kind))
					continue
				default:
					errs = append(errs, fmt.Errorf("%s: %s probe without a handler", at, kind))
					continue
				}
				if !hasPort(&c, port, corev1.ProtocolTCP) {
					errs = append(errs, fmt.Errorf("%s: %s probe port %s is not a declared TCP port of the container", at, kind, port.String()))
				}
			}
		}
	}
	return errs
}

// checkVolumes: every volume mount names a volume of the pod (or a claim
// template).
func checkVolumes(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		var names []string
		for _, v := range w.template.Spec.Volumes {
			names = append(names, v.Name)
		}
		for _, c := range w.claims {
			names = append(names, c.Name)
		}
		for _, c := range w.containers() {
			for _, vm := range c.VolumeMounts {
				if !slices.Contains(names, vm.Name) {
					errs = append(errs, fmt.Errorf("%s: mounts volume %q, which the pod does not have", where(w, c), vm.Name))
				}
			}
		}
	}
	return errs
}

// checkImages: the workloads are those of wantImages, their containers run
// the intended local image, and never pull it.
func checkImages(m *manifests) []error {
	var errs []error
	seen := map[string]bool{}
	for _, w := range m.workloads {
		key := w.kind + "/" + w.meta.Name
		seen[key] = true
		want, ok := wantImages[key]
		if !ok {
			errs = append(errs, fmt.Errorf("%v: a workload the tests do not know (add it to wantImages)", w))
			continue
		}
		for _, c := range w.containers() {
			if c.Image != want {
				errs = append(errs, fmt.Errorf("%s: image %q, want %q", where(w, c), c.Image, want))
			}
			if c.ImagePullPolicy == corev1.PullAlways {
				errs = append(errs, fmt.Errorf("%s: imagePullPolicy Always cannot use a locally loaded image", where(w, c)))
			}
		}
	}
	for key := range wantImages {
		if !seen[key] {
			errs = append(errs, fmt.Errorf("no workload %s in the manifests", key))
		}
	}
	return errs
}

// checkSecurity: pods share nothing with the node, and every container
// runs as a non-root user, without privilege escalation or capabilities,
// on a read-only root filesystem, under a seccomp profile.
func checkSecurity(m *manifests) []error {
	var errs []error
	for _, w := range m.workloads {
		spec := &w.template.Spec
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			errs = append(errs, fmt.Errorf("%v: shares the node's network, PID or IPC namespace", w))
		}
		pod := spec.SecurityContext
		if pod == nil {
			pod = &corev1.PodSecurityContext{}
		}
		for _, c := range w.containers() {
			at := where(w, c)
			sc := c.SecurityContext
			if sc == nil {
				errs = append(errs, fmt.Errorf("%s: no securityContext", at))
				continue
			}
			nonRoot, user, seccomp := pod.RunAsNonRoot, pod.RunAsUser, pod.SeccompProfile
			if sc.RunAsNonRoot != nil {
				nonRoot = sc.RunAsNonRoot
			}
			if sc.RunAsUser != nil {
				user = sc.RunAsUser
			}
			if sc.SeccompProfile != nil {
				seccomp = sc.SeccompProfile
			}
			if nonRoot == nil || !*nonRoot {
				errs = append(errs, fmt.Errorf("%s: runAsNonRoot is not true", at))
			}
			if user != nil && *user == 0 {
				errs = append(errs, fmt.Errorf("%s: runs as user 0", at))
			}
			if sc.Privileged != nil && *sc.Privileged {
				errs = append(errs, fmt.Errorf("%s: privileged", at))
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				errs = append(errs, fmt.Errorf("%s: allowPrivilegeEscalation is not false", at))
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				errs = append(errs, fmt.Errorf("%s: readOnlyRootFilesystem is not true", at))
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
				errs = append(errs, fmt.Errorf("%s: capabilities must drop ALL and add none", at))
			}
			if seccomp == nil || (seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault && seccomp.Type != corev1.SeccompProfileTypeLocalhost) {
				errs = append(errs, fmt.Errorf("%s: no RuntimeDefault (or Localhost) seccomp profile", at))
			}
		}
	}
	return errs
}

// checkArgs runs every container's program with its args (variables
// expanded with sample values) and --help: both programs parse every flag,
// print their usage and exit 0 without starting anything, and exit 2 on a
// flag they do not know. bins maps images to the programs in them.
func checkArgs(m *manifests, bins map[string]string) []error {
	var errs []error
	for _, w := range m.workloads {
		for _, c := range w.containers() {
			at := where(w, c)
			bin, ok := bins[c.Image]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: no program known for image %q", at, c.Image))
				continue
			}
			if len(c.Command) > 0 {
				errs = append(errs, fmt.Errorf("%s: sets command; the image's entrypoint is the program, set args only", at))
				continue
			}
			args, e := m.resolvedArgs(w, c)
			errs = append(errs, e...)
			env, _ := m.environment(w, c)
			if err := runHelp(bin, c.Image == barrageImage, args, env); err != nil {
				errs = append(errs, fmt.Errorf("%s: args %q: %w", at, c.Args, err))
			}
		}
	}
	return errs
}

// runHelp runs bin args... --help with env (and nothing else from the
// test's environment) and checks that it exits 0. For barrage, args[0] must
// be a subcommand, the rest --flag or --flag=value: the daemons take no
// positional arguments, which --help would not notice.
func runHelp(bin string, isBarrage bool, args []string, env map[string]string) error {
	if slices.Contains(args, "--") {
		return errors.New(`"--" would make --help an argument`)
	}
	if isBarrage {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return errors.New("the first arg must be a barrage subcommand")
		}
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "--") {
				return fmt.Errorf("positional argument %q: the daemons take none (write flags as --flag=value)", a)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(slices.Clone(args), "--help")...)
	cmd.Env = []string{"HOME=" + os.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s --help: %w: %s", filepath.Base(bin), err, firstLines(stderr.String(), 3))
	}
	if isBarrage && !strings.Contains(stdout.String(), "Usage:\n  barrage "+args[0]+" ") {
		return fmt.Errorf("barrage --help did not print the usage of subcommand %q:\n%s", args[0], stdout.String())
	}
	return nil
}

// firstLines is the first n non-empty lines of s (etcd follows its error
// with the whole usage).
func firstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// bins holds the real programs, built once for the tests that run them.
var bins struct {
	once    sync.Once
	dir     string
	byImage map[string]string
	err     error
}

// programs builds barrage (this module's cmd/barrage) and etcd (the
// version go.mod pins) and returns them by image name.
func programs(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the barrage and etcd binaries")
	}
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "barrage-deploy-test-"); bins.err != nil {
			return
		}
		bins.byImage = map[string]string{}
		for _, b := range []struct{ image, name, pkg string }{
			{barrageImage, "barrage", "github.com/barrage-dev/barrage/cmd/barrage"},
			{etcdImage, "etcd", "go.etcd.io/etcd/server/v3"},
		} {
			out := filepath.Join(bins.dir, b.name)
			cmd := exec.Command("go", "build", "-o", out, b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("go build %s: %w\n%s", b.pkg, err, msg)
				return
			}
			bins.byImage[b.image] = out
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.byImage
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

func loadOrFail(t *testing.T, dir string) *manifests {
	t.Helper()
	m, err := load(dir)
	if err != nil {
		t.Fatalf("load %s:\n%v", dir, err)
	}
	return m
}

func TestManifests(t *testing.T) {
	m := loadOrFail(t, manifestDir)
	if len(m.workloads) == 0 || len(m.services) == 0 {
		t.Fatalf("loaded %d workloads and %d services, want some of each", len(m.workloads), len(m.services))
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range c.fn(m) {
				t.Error(err)
			}
		})
	}
}

// TestArgs runs the real programs with every container's args.
func TestArgs(t *testing.T) {
	progs := programs(t)
	m := loadOrFail(t, manifestDir)
	for _, err := range checkArgs(m, progs) {
		t.Error(err)
	}
}

// TestChecksCatchBreakage breaks a copy of the manifests in one place and
// expects the checks to say so.
func TestChecksCatchBreakage(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		old, new string // old must occur exactly once in file
		want     string // in the error of load or of a check
		args     bool   // caught only by running the programs
	}{
		{name: "unknown agent flag", file: "agent.yaml",
			old: "- --http=0.0.0.0:9090", new: "- --http-addr=0.0.0.0:9090",
			want: "unknown flag: --http-addr", args: true},
		{name: "unknown subcommand", file: "coordinator.yaml",
			old: "            - coordinator\n", new: "            - coordinater\n",
			want: `unknown command "coordinater"`, args: true},
		{name: "positional argument", file: "agent.yaml",
			old: "- --name=$(POD_NAME)", new: "- --name\n            - $(POD_NAME)",
			want: `positional argument "barrage-agent-`, args: true},
		{name: "unknown etcd flag", file: "etcd.yaml",
			old: "--initial-cluster-state=new", new: "--initial-cluster-mode=new",
			want: "exit status 2: flag provided but not defined: -initial-cluster-mode", args: true},
		{name: "selector mismatch", file: "coordinator.yaml",
			old:  "  selector:\n    matchLabels:\n      app.kubernetes.io/name: barrage\n      app.kubernetes.io/component: coordinator\n",
			new:  "  selector:\n    matchLabels:\n      app.kubernetes.io/name: barrage\n      app.kubernetes.io/component: coordinators\n",
			want: "does not match the pod template's labels"},
		{name: "service selects nothing", file: "coordinator.yaml",
			old:  "spec:\n  selector:\n    app.kubernetes.io/name: barrage\n    app.kubernetes.io/component: coordinator\n",
			new:  "spec:\n  selector:\n    app.kubernetes.io/name: barrage\n    app.kubernetes.io/component: leader\n",
			want: "selects the pods of 0 workloads"},
		{name: "service selects two workloads", file: "coordinator.yaml",
			old:  "spec:\n  selector:\n    app.kubernetes.io/name: barrage\n    app.kubernetes.io/component: coordinator\n",
			new:  "spec:\n  selector:\n    app.kubernetes.io/name: barrage\n",
			want: "selects the pods of 2 workloads"},
		{name: "target port not declared", file: "coordinator.yaml",
			old: "targetPort: http", new: "targetPort: web",
			want: `port "http" targets web, which no container`},
		{name: "undefined variable", file: "coordinator.yaml",
			old: "$(POD_IP):7000", new: "$(POD_ADDR):7000",
			want: "refers to $(POD_ADDR)"},
		{name: "missing ConfigMap key", file: "agent.yaml",
			old: "key: allow-targets", new: "key: allowed-targets",
			want: `ConfigMap "barrage" has no key "allowed-targets"`},
		{name: "ConfigMap not listed", file: "kustomization.yaml",
			old: "  - config.yaml\n", new: "",
			want: `refers to ConfigMap "barrage", which the manifests do not define`},
		{name: "unknown downward API field", file: "agent.yaml",
			old: "fieldPath: spec.nodeName", new: "fieldPath: spec.node",
			want: `no field "spec.node"`},
		{name: "bad allow-targets", file: "config.yaml",
			old: `allow-targets: ""`, new: `allow-targets: "10.0.0.0/33"`,
			want: `ConfigMap barrage: allow-targets "10.0.0.0/33"`},
		{name: "probe on undeclared port", file: "agent.yaml",
			old: "path: /healthz\n              port: http", new: "path: /healthz\n              port: 9091",
			want: "readiness probe port 9091 is not a declared"},
		{name: "wrong image", file: "agent.yaml",
			old: "image: barrage:dev", new: "image: barrage:latest",
			want: `image "barrage:latest", want "barrage:dev"`},
		{name: "root", file: "coordinator.yaml",
			old: "            runAsNonRoot: true\n", new: "            runAsNonRoot: false\n",
			want: "runAsNonRoot is not true"},
		{name: "privilege escalation", file: "etcd.yaml",
			old: "allowPrivilegeEscalation: false", new: "allowPrivilegeEscalation: true",
			want: "allowPrivilegeEscalation is not false"},
		{name: "volume not declared", file: "etcd.yaml",
			old: "- name: data\n              mountPath", new: "- name: etcd-data\n              mountPath",
			want: `mounts volume "etcd-data"`},
		{name: "unknown field", file: "agent.yaml",
			old: "readinessProbe:", new: "readinesProbe:",
			want: `unknown field "readinesProbe"`},
		{name: "unknown kind", file: "namespace.yaml",
			old: "kind: Namespace", new: "kind: Namespaces",
			want: `kind "Namespaces": the tests do not know this kind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progs map[string]string
			if tt.args {
				progs = programs(t)
			}
			dir := brokenCopy(t, tt.file, tt.old, tt.new)
			m, err := load(dir)
			var errs []error
			if err != nil {
				errs = append(errs, err)
			} else {
				for _, c := range checks {
					errs = append(errs, c.fn(m)...)
				}
				if tt.args {
					errs = append(errs, checkArgs(m, progs)...)
				}
			}
			if !slices.ContainsFunc(errs, func(e error) bool { return strings.Contains(e.Error(), tt.want) }) {
				t.Fatalf("no error mentions %q; got %d:\n%v", tt.want, len(errs), errors.Join(errs...))
			}
			t.Logf("caught:\n%v", errors.Join(errs...))
		})
	}
}

// brokenCopy copies the manifests into a temporary directory, with the one
// occurrence of old in file replaced by repl.
func brokenCopy(t *testing.T, file, old, repl string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	replaced := false
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(manifestDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == file {
			if n := strings.Count(string(data), old); n != 1 {
				t.Fatalf("%s holds %q %d times, want once", file, old, n)
			}
			data = []byte(strings.Replace(string(data), old, repl, 1))
			replaced = true
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !replaced {
		t.Fatalf("no file %s in %s", file, manifestDir)
	}
	return dir
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "1", "POD_IP": "10.0.0.7", "EMPTY": ""}
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	tests := []struct {
		in, want string
		refs     []string
	}{
		{"--plain", "--plain", nil},
		{"--advertise=$(POD_IP):7000", "--advertise=10.0.0.7:7000", []string{"POD_IP"}},
		{"--x=$(EMPTY)", "--x=", []string{"EMPTY"}},
		{"$(A)$(A)", "11", []string{"A", "A"}},
		{"$(MISSING)/$(A)", "$(MISSING)/1", []string{"MISSING", "A"}},
		{"$$(A) costs $5$", "$(A) costs $5$", nil},
		{"$(A", "$(A", nil},
	}
	for _, tt := range tests {
		got, refs := expand(tt.in, lookup)
		if got != tt.want || !slices.Equal(refs, tt.refs) {
			t.Errorf("expand(%q) = %q, %q; want %q, %q", tt.in, got, refs, tt.want, tt.refs)
		}
	}
}

// TestKustomize renders the manifests with kubectl's kustomize, when
// kubectl is installed, and decodes the result as strictly: the
// kustomization is valid and puts everything in its namespace.
func TestKustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", manifestDir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	m := loadOrFail(t, manifestDir)
	rendered := &manifests{configMaps: map[string]*corev1.ConfigMap{}}
	for i, doc := range docSeparator.Split(string(out), -1) {
		if err := rendered.add(fmt.Sprintf("rendered#%d", i+1), []byte(doc)); err != nil {
			t.Errorf("rendered#%d: %v", i+1, err)
		}
	}
	if len(rendered.objects) != len(m.objects) {
		t.Errorf("kustomize rendered %d objects, the files hold %d", len(rendered.objects), len(m.objects))
	}
	for _, o := range rendered.objects {
		if o.kind != "Namespace" && o.meta.Namespace != m.namespace {
			t.Errorf("%v: rendered in namespace %q, want %q", o, o.meta.Namespace, m.namespace)
		}
	}
}
