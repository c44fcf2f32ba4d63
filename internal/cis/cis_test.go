package cis

import (
	"os"
	"reflect"
	"testing"
)

// An excerpt of a real oscap 1.3.7 results document (the stock Debian 12
// test root scanned with cis_level1_server): the Benchmark and TestResult
// elements as oscap wrote them, three of its rule-results.
func TestParseResults(t *testing.T) {
	data, err := os.ReadFile("testdata/results-excerpt.xml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseResults(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Results{
		"partition_for_var":                "notselected",
		"file_permissions_etc_passwd":      "pass",
		"sysctl_kernel_randomize_va_space": "fail",
	}
	if !reflect.DeepEqual(rs, want) {
		t.Errorf("got %v, want %v", rs, want)
	}
	if rs.Count("fail") != 1 || !reflect.DeepEqual(rs.With("pass"), []string{"file_permissions_etc_passwd"}) {
		t.Errorf("Count/With: %d %v", rs.Count("fail"), rs.With("pass"))
	}
	if _, err := ParseResults([]byte("<Benchmark/>")); err == nil {
		t.Error("a document without rule results parsed")
	}
}
