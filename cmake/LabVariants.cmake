# LabVariants.cmake - per-target sanitizer variants.
#
# Sanitizers cannot be mixed in one binary (ASan and TSan exclude each
# other), yet CI wants every test under both in one configure + build + test
# run.  So with LAB_SANITIZER_VARIANTS=ON every variant-aware target is
# created once per variant:
#
#   variant  target suffix  test suffix  sanitizer          test label
#   plain    (none)         (none)       none               dev
#   asan     -asan          :asan        address,undefined  asan
#   tsan     -tsan          :tsan        thread             tsan
#
# e.g. labyrinth, labyrinth-asan, labyrinth-tsan; test_maze, test_maze-asan,
# test_maze-tsan registered as tests test_maze, test_maze:asan,
# test_maze:tsan.  A variant executable links the library of its own
# variant.
#
# With LAB_SANITIZER_VARIANTS=OFF there is one variant, "main", without
# suffixes, built with LAB_SANITIZE (possibly none); its tests are labelled
# LAB_TEST_LABEL (the preset's name), or a name derived from LAB_SANITIZE.
#
# libFuzzer variants.  The fuzz targets (fuzz/) also need libFuzzer builds,
# and so do the libraries they link; nothing else does.  These variants are
# therefore kept apart, in LAB_FUZZ_VARIANTS, and only targets that ask for
# them (lab_add_variant_library WITH_FUZZ_VARIANTS, lab_add_variant_executable
# VARIANTS ...) are built in them:
#
#   variant    target suffix  test suffix  sanitizer      test label
#   fuzz       -fuzz          :fuzz        fuzzer         fuzz
#   fuzz_tsan  -fuzz-tsan     :fuzz-tsan   fuzzer-thread  fuzz
#
# They exist where fuzzing happens: in the variants configuration (so the
# `test` workflow runs real libFuzzer smoke runs) and with LAB_SANITIZE
# fuzzer* (the `fuzz` preset, which so holds the TSan libFuzzer build too and
# needs no preset of its own).  Clang only: with gcc they are skipped with a
# message.
#
# After lab_variants_init() these variables describe the variants:
#   LAB_VARIANTS                      list of variant ids
#   LAB_FUZZ_VARIANTS                 list of libFuzzer variant ids (may be empty)
#   LAB_VARIANT_<id>_SUFFIX           target-name suffix
#   LAB_VARIANT_<id>_TEST_SUFFIX      test-name suffix
#   LAB_VARIANT_<id>_SANITIZE         sanitizer kind (LabSanitizers.cmake)
#   LAB_VARIANT_<id>_LABEL            label of its tests

include_guard(GLOBAL)
include(LabSanitizers)

macro(_lab_variant_define id suffix test_suffix sanitize label)
	list(APPEND LAB_VARIANTS ${id})
	_lab_variant_describe(${id} "${suffix}" "${test_suffix}" "${sanitize}"
			      "${label}")
endmacro()

macro(_lab_variant_describe id suffix test_suffix sanitize label)
	set(LAB_VARIANT_${id}_SUFFIX "${suffix}")
	set(LAB_VARIANT_${id}_TEST_SUFFIX "${test_suffix}")
	set(LAB_VARIANT_${id}_SANITIZE "${sanitize}")
	set(LAB_VARIANT_${id}_LABEL "${label}")
endmacro()

# Label for single-configuration builds that were not given one.
function(_lab_default_label sanitize out)
	set(_by_kind_ "dev")
	set(_by_kind_address "asan")
	set(_by_kind_thread "tsan")
	set(_by_kind_fuzzer "fuzz")
	set(_by_kind_fuzzer-thread "fuzz-tsan")
	set(${out} "${_by_kind_${sanitize}}" PARENT_SCOPE)
endfunction()

# lab_variants_init()
# Defines the variants for this configuration and checks that the compiler
# can build every sanitizer they need.  A macro so the variables land in the
# caller's (the top-level) scope and are inherited by subdirectories.
macro(lab_variants_init)
	if(NOT LAB_SANITIZE IN_LIST _LAB_SAN_KINDS)
		message(FATAL_ERROR "labyrinth: LAB_SANITIZE='${LAB_SANITIZE}' "
			"is not one of: empty, address, thread, fuzzer, fuzzer-thread")
	endif()
	set(LAB_VARIANTS "")
	if(LAB_SANITIZER_VARIANTS)
		if(NOT LAB_SANITIZE STREQUAL "")
			message(FATAL_ERROR "labyrinth: LAB_SANITIZER_VARIANTS=ON "
				"builds its own sanitizer variants; leave "
				"LAB_SANITIZE empty (it is '${LAB_SANITIZE}')")
		endif()
		_lab_variant_define(plain "" "" "" dev)
		_lab_variant_define(asan "-asan" ":asan" address asan)
		_lab_variant_define(tsan "-tsan" ":tsan" thread tsan)
	else()
		set(_lab_label "${LAB_TEST_LABEL}")
		if(_lab_label STREQUAL "")
			_lab_default_label("${LAB_SANITIZE}" _lab_label)
		endif()
		_lab_variant_define(main "" "" "${LAB_SANITIZE}" "${_lab_label}")
	endif()
	_lab_fuzz_variants_init()
	foreach(_lab_v IN LISTS LAB_VARIANTS LAB_FUZZ_VARIANTS)
		lab_sanitizer_require("${LAB_VARIANT_${_lab_v}_SANITIZE}")
	endforeach()
	message(STATUS "labyrinth: variants: ${LAB_VARIANTS}")
	if(LAB_FUZZ_VARIANTS)
		message(STATUS "labyrinth: libFuzzer variants: ${LAB_FUZZ_VARIANTS}")
	endif()
endmacro()

# _lab_fuzz_variants_init()
# Defines LAB_FUZZ_VARIANTS (see the table at the top).  A macro, like
# lab_variants_init, so the variables land in the top-level scope.
macro(_lab_fuzz_variants_init)
	set(LAB_FUZZ_VARIANTS "")
	if(NOT LAB_SANITIZER_VARIANTS AND NOT LAB_SANITIZE MATCHES "^fuzzer")
		# No fuzzing in this configuration.
	elseif(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
		message(STATUS "labyrinth: libFuzzer variants skipped: "
			"${CMAKE_C_COMPILER_ID} has no libFuzzer (configure with "
			"CMAKE_C_COMPILER=clang to build them)")
	else()
		list(APPEND LAB_FUZZ_VARIANTS fuzz fuzz_tsan)
		_lab_variant_describe(fuzz "-fuzz" ":fuzz" fuzzer fuzz)
		_lab_variant_describe(fuzz_tsan "-fuzz-tsan" ":fuzz-tsan"
				      fuzzer-thread fuzz)
	endif()
endmacro()

# lab_target_defaults(<target>)
# Language level and warnings shared by every target of the project.
# Strict -std=c17: a file that needs POSIX or GNU interfaces says so with
# its own feature macro (#define _GNU_SOURCE before any #include), so what
# it depends on is visible in the file rather than implied by the build.
function(lab_target_defaults target)
	set_target_properties(${target} PROPERTIES
		C_STANDARD 17
		C_STANDARD_REQUIRED ON
		C_EXTENSIONS OFF
		COMPILE_WARNING_AS_ERROR ${LAB_WERROR})
	target_compile_options(${target} PRIVATE -Wall -Wextra)
endfunction()

# lab_target_sanitize(<target> <kind>)
# Compiles and links <target> with sanitizer <kind>.  PRIVATE: each variant
# target gets its flags from its own variant, never through a dependency.
function(lab_target_sanitize target kind)
	lab_sanitizer_flags("${kind}" _c _l)
	target_compile_options(${target} PRIVATE ${_c})
	target_link_options(${target} PRIVATE ${_l})
	if(kind MATCHES "^fuzzer")
		# The conventional switch for fuzz-only code paths.
		target_compile_definitions(${target} PRIVATE
			FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
	endif()
endfunction()

# _lab_build_info(<variant> <out>)
# "<build type>[ <sanitizers>]", e.g. "Debug tsan"; what lab_version() may
# append to the version so a log shows which build produced it.
function(_lab_build_info variant out)
	set(_names_address "asan+ubsan")
	set(_names_thread "tsan")
	set(_names_fuzzer "fuzzer+asan+ubsan")
	set(_names_fuzzer-thread "fuzzer+tsan")
	set(_info "${CMAKE_BUILD_TYPE}")
	set(_kind "${LAB_VARIANT_${variant}_SANITIZE}")
	if(NOT _kind STREQUAL "")
		string(APPEND _info " ${_names_${_kind}}")
	endif()
	set(${out} "${_info}" PARENT_SCOPE)
endfunction()

# lab_add_variant_library(<base> [TYPE STATIC|SHARED|OBJECT]
#                         [WITH_FUZZ_VARIANTS]
#                         SOURCES <src>... [OUT <var>])
# One library per variant, <base><suffix>; no TYPE honours BUILD_SHARED_LIBS.
# WITH_FUZZ_VARIANTS: also one per libFuzzer variant, for libraries that
# fuzz targets link.
# Its sources see LAB_BUILD_INFO, a string such as "Debug tsan".
# OUT receives the list of created targets so the caller can add usage
# requirements to all of them.
function(lab_add_variant_library base)
	cmake_parse_arguments(PARSE_ARGV 1 ARG "WITH_FUZZ_VARIANTS" "TYPE;OUT"
			      "SOURCES")
	set(_variants ${LAB_VARIANTS})
	if(ARG_WITH_FUZZ_VARIANTS)
		list(APPEND _variants ${LAB_FUZZ_VARIANTS})
	endif()
	set(_targets "")
	foreach(_v IN LISTS _variants)
		set(_t "${base}${LAB_VARIANT_${_v}_SUFFIX}")
		add_library(${_t} ${ARG_TYPE} ${ARG_SOURCES})
		lab_target_defaults(${_t})
		lab_target_sanitize(${_t} "${LAB_VARIANT_${_v}_SANITIZE}")
		_lab_build_info(${_v} _info)
		target_compile_definitions(${_t} PRIVATE "LAB_BUILD_INFO=\"${_info}\"")
		list(APPEND _targets ${_t})
	endforeach()
	if(ARG_OUT)
		set(${ARG_OUT} "${_targets}" PARENT_SCOPE)
	endif()
endfunction()

# lab_add_variant_executable(<base> SOURCES <src>...
#                            [LINK <variant-library-base>...]
#                            [INCLUDES <dir>...] [VARIANTS <id>...]
#                            [OUT <var>])
# One executable per variant (or only the listed VARIANTS, which may name
# libFuzzer variants), <base><suffix>, linked to the same variant of each
# LINK library (e.g. LINK labyrinth -> labyrinth-tsan for -tsan).
function(lab_add_variant_executable base)
	cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUT"
			      "SOURCES;LINK;INCLUDES;VARIANTS")
	if(NOT ARG_VARIANTS)
		set(ARG_VARIANTS ${LAB_VARIANTS})
	endif()
	set(_targets "")
	foreach(_v IN LISTS ARG_VARIANTS)
		set(_sfx "${LAB_VARIANT_${_v}_SUFFIX}")
		set(_t "${base}${_sfx}")
		add_executable(${_t} ${ARG_SOURCES})
		lab_target_defaults(${_t})
		lab_target_sanitize(${_t} "${LAB_VARIANT_${_v}_SANITIZE}")
		target_include_directories(${_t} PRIVATE ${ARG_INCLUDES})
		foreach(_lib IN LISTS ARG_LINK)
			target_link_libraries(${_t} PRIVATE ${_lib}${_sfx})
		endforeach()
		list(APPEND _targets ${_t})
	endforeach()
	if(ARG_OUT)
		set(${ARG_OUT} "${_targets}" PARENT_SCOPE)
	endif()
endfunction()

# lab_test_properties(<test> <variant> [LABELS <label>...] [ONLY_LABELS])
# Labels (the variant's label plus LABELS, or exactly LABELS with
# ONLY_LABELS), timeout and sanitizer environment of one test.
function(lab_test_properties test variant)
	cmake_parse_arguments(PARSE_ARGV 2 ARG "ONLY_LABELS" "" "LABELS")
	set(_labels ${ARG_LABELS})
	if(NOT ARG_ONLY_LABELS)
		list(PREPEND _labels "${LAB_VARIANT_${variant}_LABEL}")
	endif()
	list(REMOVE_DUPLICATES _labels)
	lab_sanitizer_env("${LAB_VARIANT_${variant}_SANITIZE}" _env)
	set_tests_properties(${test} PROPERTIES
		LABELS "${_labels}"
		TIMEOUT ${LAB_TEST_TIMEOUT})
	if(_env)
		set_tests_properties(${test} PROPERTIES ENVIRONMENT "${_env}")
	endif()
endfunction()

# lab_add_variant_test(<name> TARGET <exe-base> [ARGS <arg>...]
#                      [LABELS <label>...] [VARIANTS <id>...] [ONLY_LABELS])
# Registers <name><test-suffix> running <exe-base><suffix> for each variant
# (or only the listed VARIANTS).
function(lab_add_variant_test name)
	cmake_parse_arguments(PARSE_ARGV 1 ARG "ONLY_LABELS" "TARGET"
			      "ARGS;LABELS;VARIANTS")
	if(NOT ARG_VARIANTS)
		set(ARG_VARIANTS ${LAB_VARIANTS})
	endif()
	set(_only "")
	if(ARG_ONLY_LABELS)
		set(_only ONLY_LABELS)
	endif()
	foreach(_v IN LISTS ARG_VARIANTS)
		set(_test "${name}${LAB_VARIANT_${_v}_TEST_SUFFIX}")
		add_test(NAME ${_test}
			 COMMAND ${ARG_TARGET}${LAB_VARIANT_${_v}_SUFFIX} ${ARG_ARGS})
		lab_test_properties(${_test} ${_v} LABELS ${ARG_LABELS} ${_only})
	endforeach()
endfunction()
