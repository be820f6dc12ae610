/* placeholder: htable is being written */
