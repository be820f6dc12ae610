/* placeholder: params is being written */
