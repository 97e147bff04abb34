# tandem_embed_file(TARGET_VAR SYMBOL FILE): generates a C source defining
#   const char SYMBOL[]; const unsigned long SYMBOL_size;
# with FILE's bytes (NUL-terminated), and appends it to TARGET_VAR.
function(tandem_embed_file out_var symbol file)
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/${symbol}.c)
  add_custom_command(OUTPUT ${gen}
    COMMAND ${CMAKE_COMMAND} -DSYMBOL=${symbol} -DINPUT=${file} -DOUTPUT=${gen}
            -P ${PROJECT_SOURCE_DIR}/cmake/TandemEmbedRun.cmake
    DEPENDS ${file} ${PROJECT_SOURCE_DIR}/cmake/TandemEmbedRun.cmake
    COMMENT "Embedding ${file}")
  set(${out_var} ${${out_var}} ${gen} PARENT_SCOPE)
endfunction()
