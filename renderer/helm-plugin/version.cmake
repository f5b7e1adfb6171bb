# Helm 4 refuses a plugin whose version is not a strict semantic version (semver.StrictNewVersion
# in MetadataV1.Validate, internal/plugin/metadata_v1.go, helm/helm e9b85e4): MAJOR.MINOR.PATCH,
# no leading zeros, no "v". plugin.yaml takes the project version, and project(VERSION) also
# accepts "0.2" or "0.2.0.1", so the configure step refuses those instead of shipping a plugin
# Helm cannot load.
#
# Also a script, so a test can ask it about any version:
#   cmake -DEMGUARD_PLUGIN_VERSION=0.2 -P renderer/helm-plugin/version.cmake   (fails)
function(emguard_require_helm_plugin_version version)
  # CMake versions are numeric only, so no pre-release or build suffix can reach this point.
  if(NOT version MATCHES "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$")
    message(FATAL_ERROR
      "project version \"${version}\" is not MAJOR.MINOR.PATCH without leading zeros: Helm 4 "
      "would refuse the em-guard plugin (its plugin.yaml version must be strict semver)")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  emguard_require_helm_plugin_version("${EMGUARD_PLUGIN_VERSION}")
endif()
