/* placeholder: stream is being written */
