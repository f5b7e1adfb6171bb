# Source lists are written out, not globbed, so that adding a file is a visible change and the
# build never depends on what happens to lie in a directory. The cost of a written list is a
# file that is forgotten in it (a test that never compiles, a script that is never embedded):
# emguard_require_listed() turns that into a configure error naming the file.
#
#   emguard_require_listed(PATTERN <glob relative to the current source dir> FILES <listed...>)
function(emguard_require_listed)
  cmake_parse_arguments(ARG "" "PATTERN" "FILES" ${ARGN})
  file(GLOB present RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} CONFIGURE_DEPENDS
       ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_PATTERN})
  set(listed)
  foreach(file IN LISTS ARG_FILES)
    if(IS_ABSOLUTE ${file})
      file(RELATIVE_PATH relative ${CMAKE_CURRENT_SOURCE_DIR} ${file})
    else()
      set(relative ${file})
    endif()
    list(APPEND listed ${relative})
  endforeach()
  foreach(file IN LISTS present)
    if(NOT file IN_LIST listed)
      message(FATAL_ERROR "${CMAKE_CURRENT_SOURCE_DIR}/${file} is not in the source list of "
                          "${CMAKE_CURRENT_LIST_FILE}: add it there")
    endif()
  endforeach()
endfunction()
