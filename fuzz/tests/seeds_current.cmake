# seeds_current.cmake - the seed generators still write the checked-in
# seeds: every seed lab_seedgen writes must exist in corpus/<target>/ with
# the same bytes.  Other corpus files (inputs merged from campaigns) are
# not checked.  A failure means a generator or the input format changed
# without `cmake --build <dir> --target fuzz_seeds` and a commit of the
# result.
#
#   cmake -DSEEDGEN=<lab_seedgen> -DCORPUS=<corpus root> -DSCRATCH=<dir>
#         -P seeds_current.cmake

if(NOT SEEDGEN OR NOT CORPUS OR NOT SCRATCH)
	message(FATAL_ERROR "usage: cmake -DSEEDGEN=... -DCORPUS=... -DSCRATCH=... -P seeds_current.cmake")
endif()

file(REMOVE_RECURSE "${SCRATCH}")
execute_process(COMMAND "${SEEDGEN}" all "${SCRATCH}"
	RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
	message(FATAL_ERROR "lab_seedgen all failed (${_rc}):\n${_out}${_err}")
endif()

file(GLOB_RECURSE _seeds RELATIVE "${SCRATCH}" "${SCRATCH}/*")
set(_stale "")
foreach(_seed IN LISTS _seeds)
	if(NOT EXISTS "${CORPUS}/${_seed}")
		list(APPEND _stale "${_seed} (missing)")
		continue()
	endif()
	file(SHA256 "${SCRATCH}/${_seed}" _want)
	file(SHA256 "${CORPUS}/${_seed}" _have)
	if(NOT _want STREQUAL _have)
		list(APPEND _stale "${_seed} (differs)")
	endif()
endforeach()
list(LENGTH _seeds _n)
if(_stale)
	list(JOIN _stale "\n  " _list)
	message(FATAL_ERROR "corpus/ is out of date with the seed generators; "
		"run `cmake --build <build dir> --target fuzz_seeds` and commit:\n  ${_list}")
endif()
message(STATUS "${_n} generated seeds match corpus/")
